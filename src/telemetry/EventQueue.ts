import type { IDBPDatabase } from 'idb';
import type { TelemetryEvent } from '../core/eventSchema';
import { openDatabase } from '../core/openDatabase';

const DB = 'ondevice-telemetry';
const STORE = 'events';

/**
 * Events waiting for the collector's acknowledgement, in IndexedDB so they survive offline periods,
 * failed sends and page closes. An event leaves the queue only when the collector acknowledged it.
 * Falls back to memory where IndexedDB is missing (and says so).
 */
export class EventQueue {
  private db: Promise<IDBPDatabase | undefined>;
  private readonly memory = new Map<string, TelemetryEvent>();

  constructor(name = DB) {
    // No IndexedDB (or it cannot be opened within its bound): the queue lives in memory.
    this.db = openDatabase(name, 1, {
      what: 'the telemetry queue',
      upgrade(db) {
        db.createObjectStore(STORE, { keyPath: 'id' });
      },
    }).catch(() => undefined);
  }

  get persistent(): Promise<boolean> {
    return this.db.then(Boolean);
  }

  async put(events: TelemetryEvent[]): Promise<void> {
    if (events.length === 0) return;
    const db = await this.db;
    if (!db) {
      for (const e of events) this.memory.set(e.id, e);
      return;
    }
    const tx = db.transaction(STORE, 'readwrite');
    const writes = events.map((e) => tx.store.put(e));
    // Commit now, not when the browser has answered the last put: a page that closes before that
    // answer comes back aborts the transaction and loses the events (seen with an event recorded just
    // before a navigation). A requested commit is carried out without the page.
    // https://w3c.github.io/IndexedDB/#dom-idbtransaction-commit
    tx.commit?.();
    await Promise.all([...writes, tx.done]);
  }

  async peek(limit: number): Promise<TelemetryEvent[]> {
    const db = await this.db;
    if (!db) return [...this.memory.values()].slice(0, limit);
    return (await db.getAll(STORE, undefined, limit)) as TelemetryEvent[];
  }

  async remove(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const db = await this.db;
    if (!db) {
      for (const id of ids) this.memory.delete(id);
      return;
    }
    const tx = db.transaction(STORE, 'readwrite');
    await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
  }

  async size(): Promise<number> {
    const db = await this.db;
    return db ? db.count(STORE) : this.memory.size;
  }
}
