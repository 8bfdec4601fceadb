import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ChunkRecord, ModelManifest } from './ModelManifest';

export const MODEL_DB_NAME = 'ondevice-models';
const MODEL_DB_VERSION = 1;
const OPEN_TIMEOUT_MS = 10_000;

export interface ModelDbSchema extends DBSchema {
  manifests: { key: string; value: ModelManifest; indexes: { id: string } };
  chunks: { key: [string, number]; value: ChunkRecord };
}

export type ModelDb = IDBPDatabase<ModelDbSchema>;

let opening: Promise<ModelDb> | undefined;

/** The store's database, opened once per context (page, worker) and shared. */
export function openModelDb(): Promise<ModelDb> {
  if (typeof indexedDB === 'undefined') {
    return Promise.reject(new OnDeviceError('NOT_SUPPORTED', 'IndexedDB is not available here; models load from the network only'));
  }
  opening ??= open();
  opening.catch(() => (opening = undefined));
  return opening;
}

/** Every key range over the chunks of one model. */
export function chunkRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);
}

async function open(): Promise<ModelDb> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // An upgrade waits for every older connection to close; another tab could hold one forever.
    timer = setTimeout(
      () => reject(new OnDeviceError('TIMEOUT', `Opening the model store took over ${OPEN_TIMEOUT_MS} ms (blocked by another tab?)`)),
      OPEN_TIMEOUT_MS,
    );
  });
  const db = openDB<ModelDbSchema>(MODEL_DB_NAME, MODEL_DB_VERSION, {
    upgrade(database) {
      const manifests = database.createObjectStore('manifests', { keyPath: 'key' });
      manifests.createIndex('id', 'id');
      database.createObjectStore('chunks', { keyPath: ['key', 'index'] });
    },
    blocking() {
      // A newer version of the library wants to upgrade: step aside, the next call reopens.
      void db.then((d) => d.close()).catch(() => undefined);
      opening = undefined;
    },
    terminated() {
      opening = undefined;
    },
  });
  try {
    return await Promise.race([db, timeout]);
  } catch (error) {
    void db.then((d) => d.close()).catch(() => undefined);
    throw error instanceof OnDeviceError
      ? error
      : new OnDeviceError('NOT_SUPPORTED', `Could not open the model store: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
