import React, { useState } from 'react';
import {
  Button,
  Dialog,
  DialogActions,
  DialogContent,
  DialogContentText,
  DialogTitle,
  TextField,
  Typography,
} from '@material-ui/core';
import type { BackupSummary } from '@backstage-backup/plugin-backup-common';
import { entitySummary, formatAge, formatTime } from '../format';

export interface RestoreDialogProps {
  backup: BackupSummary;
  open: boolean;
  onClose(): void;
  onConfirm(): void;
}

/**
 * Restore replaces the live catalog: the dialog says what will happen and asks for the backup's
 * name typed out, so a click alone never restores.
 */
export function RestoreDialog({ backup, open, onClose, onConfirm }: RestoreDialogProps) {
  const [typed, setTyped] = useState('');
  const matches = typed.trim() === backup.id || typed.trim() === backup.name;
  const entities = entitySummary(backup.entities);
  const close = () => {
    setTyped('');
    onClose();
  };

  return (
    <Dialog open={open} onClose={close} aria-labelledby="restore-dialog-title" maxWidth="sm" fullWidth>
      <DialogTitle id="restore-dialog-title">Restore {backup.id}?</DialogTitle>
      <DialogContent>
        <DialogContentText component="div">
          <Typography variant="body2" paragraph>
            The catalog database is replaced by this backup, taken {formatTime(backup.createdAt)} (
            {formatAge(backup.createdAt)}
            {entities ? `, ${entities.total.toLocaleString('en-US')} entities` : ''}). What happens:
          </Typography>
          <ol style={{ marginTop: 0 }}>
            <li>
              A <strong>safety backup</strong> of the catalog as it is now is taken first (trigger{' '}
              <code>safety</code>), so this restore can itself be undone.
            </li>
            <li>
              The backup is streamed from the store and checked while it loads (SHA-256, gzip, pg_dump's completion
              line).
            </li>
            <li>
              It loads in <strong>one transaction: all or nothing</strong>. It commits only when every check passed; on
              any error the catalog stays exactly as it was.
            </li>
            <li>Entities added or changed since the backup was taken are gone until their providers bring them back.</li>
          </ol>
          <Typography variant="body2">
            Type the backup's name, <code>{backup.id}</code>, to confirm.
          </Typography>
        </DialogContentText>
        <TextField
          autoFocus
          fullWidth
          margin="dense"
          label="Backup name"
          value={typed}
          onChange={e => setTyped(e.target.value)}
          inputProps={{ 'aria-label': 'Backup name to confirm', spellCheck: false, autoComplete: 'off' }}
        />
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>Cancel</Button>
        <Button
          color="secondary"
          variant="contained"
          disabled={!matches}
          onClick={() => {
            setTyped('');
            onConfirm();
          }}
        >
          Restore
        </Button>
      </DialogActions>
    </Dialog>
  );
}
