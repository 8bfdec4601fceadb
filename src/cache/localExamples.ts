import type { DBSchema, IDBPDatabase } from 'idb';
import { OnDeviceError } from '../core/OnDeviceError';
import { openDatabase } from '../core/openDatabase';

const DB_NAME = 'ondevice-local-examples';
const DB_VERSION = 1;
/** Kept per model and version by default; beyond it the oldest go first. */
export const MAX_LOCAL_EXAMPLES = 1000;

/** One input tensor as kept on the device: the numeric types a `sample` can carry, in their typed array. */
export interface LocalTensor {
  type: 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'bool';
  dims: number[];
  data: Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array;
}

/** A labelled model input kept on this device for federated fine-tuning; it never leaves it. */
export interface LocalExample {
  /** Random id; also decides (by hash) whether the example is held back from training. */
  id: string;
  modelId: string;
  /** The version that made the prediction the label is for ('-' when unknown). */
  version: string;
  label: string | number;
  inputs: Record<string, LocalTensor>;
  addedMs: number;
}

interface ExampleDbSchema extends DBSchema {
  examples: { key: string; value: LocalExample; indexes: { model: string; modelVersion: [string, string, number] } };
}

let opening: Promise<IDBPDatabase<ExampleDbSchema>> | undefined;

function openExampleDb(): Promise<IDBPDatabase<ExampleDbSchema>> {
  opening ??= openDatabase<ExampleDbSchema>(DB_NAME, DB_VERSION, {
    what: 'the local example store',
    upgrade(database) {
      const examples = database.createObjectStore('examples', { keyPath: 'id' });
      examples.createIndex('model', 'modelId');
      examples.createIndex('modelVersion', ['modelId', 'version', 'addedMs']);
    },
    onClosed: () => (opening = undefined),
  });
  opening.catch(() => (opening = undefined));
  return opening;
}

/**
 * Keep `example` on this device; then at most `maxPerVersion` examples of its model and version remain (the
 * oldest are dropped). Resolves to how many were dropped. NOT_SUPPORTED where IndexedDB is missing.
 */
export async function addLocalExample(example: LocalExample, maxPerVersion = MAX_LOCAL_EXAMPLES): Promise<number> {
  const db = await openExampleDb();
  const tx = db.transaction('examples', 'readwrite');
  const store = tx.objectStore('examples');
  await store.put(example);
  const range = IDBKeyRange.bound([example.modelId, example.version, -Infinity], [example.modelId, example.version, Infinity]);
  const count = await store.index('modelVersion').count(range);
  let dropped = 0;
  if (count > maxPerVersion) {
    // The index is ordered by addedMs: the cursor meets the oldest first.
    let cursor = await store.index('modelVersion').openCursor(range);
    while (cursor && dropped < count - maxPerVersion) {
      await cursor.delete();
      dropped++;
      cursor = await cursor.continue();
    }
  }
  await tx.done;
  return dropped;
}

/** Every example kept for `modelId` (all versions), oldest first. */
export async function listLocalExamples(modelId: string): Promise<LocalExample[]> {
  if (typeof indexedDB === 'undefined') return [];
  const db = await openExampleDb();
  const all = await db.getAllFromIndex('examples', 'model', modelId);
  return all.sort((a, b) => a.addedMs - b.addedMs || (a.id < b.id ? -1 : 1));
}

/** How many examples are kept, per model id. */
export async function countLocalExamples(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (typeof indexedDB === 'undefined') return counts;
  const db = await openExampleDb();
  let cursor = await db.transaction('examples').store.index('model').openKeyCursor();
  while (cursor) {
    counts.set(cursor.key, (counts.get(cursor.key) ?? 0) + 1);
    cursor = await cursor.continue();
  }
  return counts;
}

/**
 * Delete the labelled examples kept on this device for federated fine-tuning: those of `modelId`, or all of
 * them. Resolves to how many were deleted. Deleting a model from the model store deletes its examples too.
 *
 * @example
 * await clearLocalExamples('digits'); // the user withdrew consent for this model
 */
export async function clearLocalExamples(modelId?: string): Promise<number> {
  if (modelId !== undefined && typeof modelId !== 'string') {
    throw new OnDeviceError('INVALID_INPUT', `clearLocalExamples: modelId must be a string, got ${typeof modelId}`);
  }
  if (typeof indexedDB === 'undefined') return 0;
  const db = await openExampleDb();
  const tx = db.transaction('examples', 'readwrite');
  let deleted = 0;
  if (modelId === undefined) {
    deleted = await tx.store.count();
    await tx.store.clear();
  } else {
    let cursor = await tx.store.index('model').openCursor(modelId);
    while (cursor) {
      await cursor.delete();
      deleted++;
      cursor = await cursor.continue();
    }
  }
  await tx.done;
  return deleted;
}
