import type Database from 'better-sqlite3';
import type { TelemetryEvent } from '../core/eventSchema';
import { eventRow, INSERT_EVENT_SQL, type EventRow } from './eventRow';
import type { EventWriter } from './EventWriter';
import type { ModelKey, ModelKeyBudget } from './ModelKeyBudget';
import type { SqliteSampleStore } from './SqliteSampleStore';
import type { InsertMeta, InsertResult } from './storeRows';

type KeyRow = { siteKey: string; modelId: string; modelVersion: string };

/**
 * EventWriter on one better-sqlite3 connection: one transaction per batch. Model ids and versions
 * go through the ModelKeyBudget; the keys it admits are stored in the same transaction.
 */
export class SqliteEventWriter implements EventWriter {
  private readonly insert: Database.Statement<[EventRow]>;
  private readonly insertKey: Database.Statement<[KeyRow]>;
  private readonly insertMany: Database.Transaction<
    (events: readonly TelemetryEvent[], meta: InsertMeta, added: ModelKey[]) => InsertResult
  >;
  private readonly probe: Database.Statement<[]>;

  constructor(
    db: Database.Database,
    private readonly budget: ModelKeyBudget,
    /** Where a `sample` event's inputs go, in the same transaction as its event row. */
    private readonly samples?: SqliteSampleStore,
  ) {
    const keys = db
      .prepare<[], KeyRow>('SELECT site_key AS siteKey, model_id AS modelId, model_version AS modelVersion FROM model_keys')
      .all();
    for (const k of keys) budget.admit(k.siteKey, k.modelId, k.modelVersion === '' ? null : k.modelVersion);
    this.insert = db.prepare<[EventRow]>(INSERT_EVENT_SQL);
    this.insertKey = db.prepare<[KeyRow]>(
      'INSERT OR IGNORE INTO model_keys (site_key, model_id, model_version) VALUES (@siteKey, @modelId, @modelVersion)',
    );
    // A write that changes nothing: SQLite still checks that it may write (SQLITE_READONLY otherwise).
    this.probe = db.prepare<[]>('DELETE FROM events WHERE 0');
    this.insertMany = db.transaction((events: readonly TelemetryEvent[], meta: InsertMeta, added: ModelKey[]) => {
      const stored: TelemetryEvent[] = [];
      let folded = 0;
      for (const e of events) {
        const key = this.budget.admit(meta.siteKey, e.modelId, e.modelVersion ?? null);
        if (key.added) {
          added.push(key);
          this.insertKey.run({ siteKey: meta.siteKey, modelId: key.modelId, modelVersion: key.modelVersion ?? '' });
        }
        const keyed = key.folded ? ({ ...e, modelId: key.modelId, modelVersion: key.modelVersion ?? undefined } as TelemetryEvent) : e;
        if (this.insert.run(eventRow(keyed, meta, e)).changes === 1) {
          if (keyed.type === 'sample') this.samples?.insert(keyed, meta);
          stored.push(keyed);
          if (key.folded) folded++;
        }
      }
      return { stored, duplicates: events.length - stored.length, folded };
    });
  }

  async insertBatch(events: readonly TelemetryEvent[], meta: InsertMeta): Promise<InsertResult> {
    const added: ModelKey[] = [];
    try {
      return this.insertMany(events, meta, added);
    } catch (e) {
      this.budget.forget(meta.siteKey, added);
      throw e;
    }
  }

  async checkWritable(): Promise<void> {
    this.probe.run();
  }
}
