import type { DBSchema, IDBPDatabase } from 'idb';
import { OnDeviceError } from '../core/OnDeviceError';
import { openDatabase } from '../core/openDatabase';
import type { ChunkRecord, ModelManifest, StoredFile } from './ModelManifest';

export const MODEL_DB_NAME = 'ondevice-models';
// 2: the `files` store (external data files, shared by content between models).
const MODEL_DB_VERSION = 2;

export interface ModelDbSchema extends DBSchema {
  manifests: { key: string; value: ModelManifest; indexes: { id: string } };
  /** External data files, keyed `data:sha256:<hex>` or `data:url:<url>`; their chunks share the `chunks` store. */
  files: { key: string; value: StoredFile };
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

/** Every key range over the chunks of one stored file. */
export function chunkRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);
}

function open(): Promise<ModelDb> {
  return openDatabase<ModelDbSchema>(MODEL_DB_NAME, MODEL_DB_VERSION, {
    what: 'the model store',
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const manifests = database.createObjectStore('manifests', { keyPath: 'key' });
        manifests.createIndex('id', 'id');
        database.createObjectStore('chunks', { keyPath: ['key', 'index'] });
      }
      if (oldVersion < 2) database.createObjectStore('files', { keyPath: 'key' });
    },
    onClosed: () => (opening = undefined),
  });
}
