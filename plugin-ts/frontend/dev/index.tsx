// The plugin in a local app: `npm start` in this folder (Backstage's dev app, guest sign-in),
// against a backend with the backup plugin (`backend.baseUrl` in the app-config). The browser
// test serves this same app.
import React from 'react';
import { createDevApp } from '@backstage/dev-utils';
import BackupIcon from '@material-ui/icons/Backup';
import { backupPlugin, BackupPage } from '../src';

createDevApp()
  .registerPlugin(backupPlugin)
  .addPage({ element: <BackupPage />, title: 'Backups', path: '/backup', icon: BackupIcon })
  .render();
