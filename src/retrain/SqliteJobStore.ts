import type Database from 'better-sqlite3';
import type { Job, JobStore, JobTrigger, JobUpdate } from './JobStore';
import { COLUMNS, JSON_FIELDS, jobOf, type JobRow } from './jobRows';

/**
 * Jobs in the collector's SQLite database (migration 6). The lock is one row in `retrain_lock`, taken in
 * an IMMEDIATE transaction: two processes on the same file serialize on SQLite's write lock, so only one
 * of them sees the row free (or its lease expired) and takes it.
 */
export class SqliteJobStore implements JobStore {
  private readonly insertJob;
  private readonly selectOne;
  private readonly selectAll;
  private readonly selectModel;
  private readonly selectLock;
  private readonly upsertLock;
  private readonly touchLock;
  private readonly deleteLock;

  constructor(private readonly db: Database.Database) {
    this.insertJob = db.prepare(
      `INSERT INTO retrain_jobs (id, model_id, trigger, state, created_ms) VALUES (@id, @modelId, @trigger, 'queued', @createdMs)`,
    );
    this.selectOne = db.prepare('SELECT * FROM retrain_jobs WHERE id = ?');
    this.selectAll = db.prepare('SELECT * FROM retrain_jobs ORDER BY created_ms DESC, rowid DESC LIMIT ?');
    this.selectModel = db.prepare('SELECT * FROM retrain_jobs WHERE model_id = ? ORDER BY created_ms DESC, rowid DESC LIMIT ?');
    this.selectLock = db.prepare(`SELECT holder, renewed_ms, lease_ms FROM retrain_lock WHERE name = 'retrain'`);
    this.upsertLock =
      db.prepare(`INSERT INTO retrain_lock (name, holder, renewed_ms, lease_ms) VALUES ('retrain', @holder, @nowMs, @leaseMs)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, renewed_ms = excluded.renewed_ms, lease_ms = excluded.lease_ms`);
    this.touchLock = db.prepare(`UPDATE retrain_lock SET renewed_ms = @nowMs WHERE name = 'retrain' AND holder = @holder`);
    this.deleteLock = db.prepare(`DELETE FROM retrain_lock WHERE name = 'retrain' AND holder = ?`);
  }

  async create(job: { id: string; modelId: string; trigger: JobTrigger; createdMs: number }): Promise<Job> {
    this.insertJob.run(job);
    return (await this.get(job.id))!;
  }

  async update(id: string, update: JobUpdate): Promise<Job> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id };
    for (const [key, value] of Object.entries(update) as [keyof JobUpdate, unknown][]) {
      if (value === undefined) continue;
      const column = COLUMNS[key];
      sets.push(`${column} = @${column}`);
      values[column] = JSON_FIELDS.has(key) && value !== null ? JSON.stringify(value) : value;
    }
    if (sets.length > 0) this.db.prepare(`UPDATE retrain_jobs SET ${sets.join(', ')} WHERE id = @id`).run(values);
    const job = await this.get(id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    const row = this.selectOne.get(id) as JobRow | undefined;
    return row && jobOf(row);
  }

  async list(options: { modelId?: string; limit: number }): Promise<Job[]> {
    const rows = (options.modelId ? this.selectModel.all(options.modelId, options.limit) : this.selectAll.all(options.limit)) as JobRow[];
    return rows.map(jobOf);
  }

  async acquireLock(holder: string, nowMs: number, leaseMs: number): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.selectLock.get() as { holder: string; renewed_ms: number; lease_ms: number } | undefined;
        if (row && row.holder !== holder && nowMs - row.renewed_ms < row.lease_ms) return false;
        this.upsertLock.run({ holder, nowMs, leaseMs });
        return true;
      })
      .immediate();
  }

  async renewLock(holder: string, nowMs: number): Promise<boolean> {
    return this.touchLock.run({ holder, nowMs }).changes === 1;
  }

  async releaseLock(holder: string): Promise<void> {
    this.deleteLock.run(holder);
  }
}
