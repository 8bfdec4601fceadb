import { openDB, type DBSchema, type IDBPDatabase, type OpenDBCallbacks } from 'idb';
import { OnDeviceError } from './OnDeviceError';

const OPEN_TIMEOUT_MS = 10_000;

export interface OpenDatabaseOptions<S extends DBSchema | unknown> {
  /** Named in errors ("the model store"). */
  what: string;
  upgrade: OpenDBCallbacks<S>['upgrade'];
  /** The connection went away (another version wants to upgrade, or the browser closed it): reopen next time. */
  onClosed?: () => void;
  timeoutMs?: number;
}

/**
 * The one way we open IndexedDB (`idb`): bounded (an upgrade waits for every older connection to close,
 * and another tab could hold one forever), stepping aside when a newer version wants to upgrade, and
 * saying why it failed. NOT_SUPPORTED where IndexedDB is missing or broken, TIMEOUT when blocked.
 *
 * @example
 * const db = await openDatabase<MySchema>('my-db', 1, { what: 'my store', upgrade: (d) => d.createObjectStore('s') });
 */
export async function openDatabase<S extends DBSchema | unknown>(
  name: string,
  version: number,
  { what, upgrade, onClosed, timeoutMs = OPEN_TIMEOUT_MS }: OpenDatabaseOptions<S>,
): Promise<IDBPDatabase<S>> {
  if (typeof indexedDB === 'undefined') {
    throw new OnDeviceError('NOT_SUPPORTED', `IndexedDB is not available here, so ${what} cannot be opened`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OnDeviceError('TIMEOUT', `Opening ${what} took over ${timeoutMs} ms (blocked by another tab?)`)),
      timeoutMs,
    );
  });
  const db = openDB<S>(name, version, {
    upgrade,
    blocking() {
      // A newer version of the library wants to upgrade: step aside, the next call reopens.
      void db.then((d) => d.close()).catch(() => undefined);
      onClosed?.();
    },
    terminated() {
      onClosed?.();
    },
  });
  try {
    return await Promise.race([db, timeout]);
  } catch (error) {
    void db.then((d) => d.close()).catch(() => undefined);
    throw error instanceof OnDeviceError
      ? error
      : new OnDeviceError('NOT_SUPPORTED', `Could not open ${what}: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
