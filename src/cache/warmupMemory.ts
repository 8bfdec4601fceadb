import type { DBSchema, IDBPDatabase } from 'idb';
import { openDatabase } from '../core/openDatabase';

/** Input dims by input name: one call's shape (never its values). */
export type CallShape = Record<string, number[]>;

/**
 * What the runtime remembers about warming one model version up (database `ondevice-warmup`, keyed like
 * the model store: `storeKeyOf(source)`): the input dims of the first calls of its last load, and the
 * warm-up inputs that failed on it. Dims only — no input value is ever stored.
 */
export interface WarmupRecord {
  key: string;
  /** The distinct input dims of the first calls of the last load that made any, in order of first use. */
  shapes: CallShape[];
  /** Signatures (`warmupSignature`) of generated warm-up inputs the model refused: they are not tried again. */
  failed: string[];
  /** Epoch milliseconds of the last write (the oldest records go first past `MAX_MODELS`). */
  lastUsed: number;
}

interface WarmupDbSchema extends DBSchema {
  models: { key: string; value: WarmupRecord; indexes: { lastUsed: number } };
}

const DB_NAME = 'ondevice-warmup';
const DB_VERSION = 1;
/** Distinct shapes kept per model: the first calls', in order. */
export const MAX_SHAPES = 4;
const MAX_FAILED = 8;
/** Models remembered per origin; past it the least recently used record goes. */
const MAX_MODELS = 64;
/** A shape with more inputs or dims than this is not remembered (it would not be small). */
const MAX_SHAPE_JSON_CHARS = 2048;

let opening: Promise<IDBPDatabase<WarmupDbSchema>> | undefined;

function open(): Promise<IDBPDatabase<WarmupDbSchema>> {
  opening ??= openDatabase<WarmupDbSchema>(DB_NAME, DB_VERSION, {
    what: 'the warm-up memory',
    upgrade(database) {
      database.createObjectStore('models', { keyPath: 'key' }).createIndex('lastUsed', 'lastUsed');
    },
    onClosed: () => (opening = undefined),
  });
  opening.catch(() => (opening = undefined));
  return opening;
}

/** The same string for the same dims (and constant fills), whatever the order of the inputs. */
export function warmupSignature(shape: CallShape, fill: Record<string, number> = {}): string {
  const names = Object.keys(shape).sort();
  return JSON.stringify(names.map((name) => [name, shape[name], fill[name] ?? null]));
}

function isShape(value: unknown): value is CallShape {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((dims) => Array.isArray(dims) && dims.every((d) => Number.isInteger(d) && d >= 0))
  );
}

/** A record another version of the library wrote may not have our shape: read only what checks out. */
function validRecord(value: WarmupRecord | undefined): WarmupRecord | undefined {
  if (!value || !Array.isArray(value.shapes) || !Array.isArray(value.failed)) return undefined;
  return { ...value, shapes: value.shapes.filter(isShape), failed: value.failed.filter((s) => typeof s === 'string') };
}

async function update(key: string, change: (record: WarmupRecord) => WarmupRecord): Promise<void> {
  const db = await open();
  const tx = db.transaction('models', 'readwrite');
  const current = validRecord(await tx.store.get(key)) ?? { key, shapes: [], failed: [], lastUsed: 0 };
  await tx.store.put({ ...change(current), key, lastUsed: Date.now() });
  const count = await tx.store.count();
  if (count > MAX_MODELS) {
    let cursor = await tx.store.index('lastUsed').openCursor();
    for (let extra = count - MAX_MODELS; cursor && extra > 0; extra--) {
      await cursor.delete();
      cursor = await cursor.continue();
    }
  }
  await tx.done;
}

/**
 * The runtime's memory of how each model version warms up (src/runtime/SessionWarmup.ts): the dims of
 * its first real calls, so a later load warms up on exactly those, and the generated inputs it refused,
 * so they are not tried on every load. Bounded (`MAX_SHAPES` per model, 64 models); no input values.
 * Every method rejects with NOT_SUPPORTED where IndexedDB is missing; callers treat it as best effort.
 *
 * @example
 * const record = await warmupMemory.read(storeKeyOf(source)); // undefined the first time
 */
export const warmupMemory = {
  async read(key: string): Promise<WarmupRecord | undefined> {
    return validRecord(await (await open()).get('models', key));
  },
  /** Replace the model's remembered shapes with these (the first calls of the load now running). */
  rememberShapes(key: string, shapes: CallShape[]): Promise<void> {
    const kept = shapes.filter((shape) => JSON.stringify(shape).length <= MAX_SHAPE_JSON_CHARS).slice(0, MAX_SHAPES);
    return update(key, (record) => ({ ...record, shapes: kept }));
  },
  /** Never warm this model up on these generated inputs again. */
  rememberFailure(key: string, signature: string): Promise<void> {
    return update(key, (record) => ({
      ...record,
      failed: [...record.failed.filter((s) => s !== signature), signature].slice(-MAX_FAILED),
    }));
  },
  /** Forget everything (the model store's `clear()` does this too). */
  async clear(): Promise<void> {
    if (typeof indexedDB === 'undefined') return;
    await (await open()).clear('models');
  },
};
