import { openDatabase } from '../core/openDatabase';
import { pageGlobals } from '../core/pageGlobals';
import { newId } from './newId';

const KEY = 'ondevice.installId';
const DB_NAME = 'ondevice-install';
const STORE = 'install';

let shared: string | undefined;
let memory: string | undefined;
let reconciling: Promise<string> | undefined;

function readLocal(): string | undefined {
  try {
    return pageGlobals().localStorage?.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage blocked (e.g. third-party iframe with cookies off)
  }
}

function writeLocal(id: string): boolean {
  try {
    const storage = pageGlobals().localStorage;
    storage?.setItem(KEY, id);
    return storage !== undefined;
  } catch {
    return false;
  }
}

/**
 * The anonymous id of this browser profile, synchronously: the one shared with workers once
 * `sharedInstallId()` has settled; before that a page's localStorage copy (which that reconciles),
 * else a per-context id (a worker's first events may carry that one until `sharedInstallId()` settles).
 */
export function installId(): string {
  if (shared) return shared;
  const local = readLocal();
  if (local) return local;
  memory ??= newId();
  writeLocal(memory);
  return memory;
}

/** True when `installId()` already answers the profile-wide id (or no shared store exists here to wait for). */
export function installIdReady(): boolean {
  return shared !== undefined || typeof indexedDB === 'undefined' || readLocal() !== undefined;
}

/**
 * One install id per browser profile, shared by the page and its workers through IndexedDB (a worker has
 * no localStorage, and used to make a new id on every call; release assignment and install counts depend
 * on it). The first context to ask writes it inside one readwrite transaction, so a page and a worker
 * asking at once agree. An id a page already kept in localStorage is adopted, so existing installs keep
 * theirs. Never rejects: where IndexedDB is missing or broken the id is per context (as `installId()`).
 */
export function sharedInstallId(): Promise<string> {
  if (shared) return Promise.resolve(shared);
  reconciling ??= reconcile()
    .catch(() => installId())
    .then((id) => {
      shared = id;
      writeLocal(id);
      return id;
    });
  return reconciling;
}

async function reconcile(): Promise<string> {
  const db = await openDatabase(DB_NAME, 1, {
    what: 'the install id store',
    upgrade: (database) => void database.createObjectStore(STORE),
  });
  try {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    let id = (await store.get(KEY)) as string | undefined;
    if (typeof id !== 'string' || id.length === 0) {
      id = readLocal() ?? memory ?? newId();
      await store.put(id, KEY);
    }
    await tx.done;
    return id;
  } finally {
    db.close();
  }
}
