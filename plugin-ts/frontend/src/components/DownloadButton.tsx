import React, { useState } from 'react';
import { Button } from '@material-ui/core';
import { fetchApiRef, useApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { backupApiRef } from '../api';
import { describeError } from '../format';

/**
 * Downloads a backup's `.sql.gz`. The route needs the user's Backstage token, which a plain link
 * would not send, so the file is fetched through fetchApi and handed to the browser as a blob.
 */
export function DownloadButton({ backupId, disabled, onError }: { backupId: string; disabled?: boolean; onError(message: string): void }) {
  const api = useApi(backupApiRef);
  const fetchApi = useApi(fetchApiRef);
  const [busy, setBusy] = useState(false);

  const download = async () => {
    setBusy(true);
    try {
      const response = await fetchApi.fetch(await api.downloadUrl(backupId));
      if (!response.ok) throw await ResponseError.fromResponse(response);
      const href = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = href;
      link.download = `${backupId}.sql.gz`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
    } catch (error) {
      onError(`Download failed: ${describeError(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Button size="small" onClick={download} disabled={disabled || busy}>
      {busy ? 'Downloading…' : 'Download'}
    </Button>
  );
}
