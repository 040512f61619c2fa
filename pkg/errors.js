'use strict';
// The one error type both engines throw: `code` is stable (see index.d.ts), `message` says what
// to fix and never carries a password.

class BackupError extends Error {
  /** `reason`: core's cause (`deadlock`, `no-space`, `no-credentials`, …), when it has one. */
  constructor(code, message, reason) {
    super(message);
    this.name = 'BackupError';
    this.code = code;
    if (reason) this.reason = reason;
  }
}

const invalid = message => new BackupError('E_INVALID', message);
const database = message => new BackupError('E_PG_DUMP', message);
const store = message => new BackupError('E_STORE', message);
const aborted = () => new BackupError('E_ABORTED', 'cancelled; nothing partial was left in the store');

/** Shows untrusted text in a message: at most 200 characters, control characters escaped. */
const printable = text => String(text).slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, c => JSON.stringify(c).slice(1, -1));

/** Throws E_ABORTED when `signal` has fired: called between steps and per chunk. */
function checkAborted(signal) {
  if (signal?.aborted) throw aborted();
}

module.exports = { BackupError, invalid, database, store, aborted, checkAborted, printable };
