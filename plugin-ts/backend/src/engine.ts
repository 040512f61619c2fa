import { Engine, engineChoice } from '@backstage-backup/engine';
import { ConflictError, InputError, NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import type { BackupSettings } from './config';

export type { Engine };
export { engineChoice };

export interface EngineProgress {
  phase?: string;
  raw?: number;
  stored?: number;
  total?: number | null;
}

/** The engine for these settings; a wrong `backup.store` or `backup.retention` fails here, at start-up, in the engine's words. */
export function createEngine(settings: BackupSettings): Engine {
  const engine = new Engine({
    store: settings.store,
    compressionLevel: settings.compressionLevel,
    signing: settings.signing,
  });
  const check = (key: string, what: () => void) => {
    try {
      what();
    } catch (err) {
      throw new InputError(`${key}: ${(err as Error).message}`);
    }
  };
  check('backup.store', () => engine.describeStore());
  check('backup.retention', () => engine.checkPrune(settings.retention));
  return engine;
}

/** The engine's stable code of an error, or E_INTERNAL for anything else. */
export function engineErrorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^E_[A-Z_]+$/.test(code) ? code : 'E_INTERNAL';
}

/** Engine errors as Backstage HTTP errors: a bad id is 400, a missing backup 404, a held lock 409. */
export function toHttpError(err: unknown): Error {
  const error = err as Error;
  switch (engineErrorCode(err)) {
    case 'E_INVALID':
      return new InputError(error.message);
    case 'E_NOT_FOUND':
      return new NotFoundError(error.message);
    case 'E_LOCKED':
    case 'E_EXISTS':
      return new ConflictError(error.message);
    case 'E_STORE':
    case 'E_UNAVAILABLE':
      return new ServiceUnavailableError(error.message);
    default:
      return error;
  }
}
