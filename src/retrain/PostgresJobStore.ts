import type pg from 'pg';
import { inTransaction } from '../db/openPostgresPool';
import type { Job, JobStore, JobTrigger, JobUpdate } from './JobStore';
import { COLUMNS, JSON_FIELDS, jobOf, type JobRow } from './jobRows';

/**
 * Jobs on PostgreSQL (migration 2 of pgMigrations.ts), the counterpart of SqliteJobStore. The lock is
 * one row in `retrain_lock`, read and taken in one transaction under a row lock (the row is created
 * first if missing), so two instances never both see it free.
 */
export class PostgresJobStore implements JobStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(job: { id: string; modelId: string; trigger: JobTrigger; createdMs: number }): Promise<Job> {
    await this.pool.query(`INSERT INTO retrain_jobs (id, model_id, trigger, state, created_ms) VALUES ($1, $2, $3, 'queued', $4)`, [
      job.id,
      job.modelId,
      job.trigger,
      job.createdMs,
    ]);
    return (await this.get(job.id))!;
  }

  async update(id: string, update: JobUpdate): Promise<Job> {
    const sets: string[] = [];
    const values: unknown[] = [id];
    for (const [key, value] of Object.entries(update) as [keyof JobUpdate, unknown][]) {
      if (value === undefined) continue;
      values.push(JSON_FIELDS.has(key) && value !== null ? JSON.stringify(value) : value);
      sets.push(`${COLUMNS[key]} = $${values.length}`);
    }
    if (sets.length > 0) await this.pool.query(`UPDATE retrain_jobs SET ${sets.join(', ')} WHERE id = $1`, values);
    const job = await this.get(id);
    if (!job) throw new Error(`no job ${id}`);
    return job;
  }

  async get(id: string): Promise<Job | undefined> {
    const { rows } = await this.pool.query<JobRow>('SELECT * FROM retrain_jobs WHERE id = $1', [id]);
    return rows[0] && jobOf(rows[0]);
  }

  async list(options: { modelId?: string; limit: number }): Promise<Job[]> {
    const { rows } = options.modelId
      ? await this.pool.query<JobRow>(
          'SELECT * FROM retrain_jobs WHERE model_id = $1 ORDER BY created_ms DESC, created_seq DESC LIMIT $2',
          [options.modelId, options.limit],
        )
      : await this.pool.query<JobRow>('SELECT * FROM retrain_jobs ORDER BY created_ms DESC, created_seq DESC LIMIT $1', [options.limit]);
    return rows.map(jobOf);
  }

  async acquireLock(holder: string, nowMs: number, leaseMs: number): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      // A free lock is a row with an expired lease: insert it once (lease 0), then every taker locks that row.
      await client.query(
        `INSERT INTO retrain_lock (name, holder, renewed_ms, lease_ms) VALUES ('retrain', '', 0, 0) ON CONFLICT (name) DO NOTHING`,
      );
      const { rows } = await client.query<{ holder: string; renewed_ms: number; lease_ms: number }>(
        `SELECT holder, renewed_ms, lease_ms FROM retrain_lock WHERE name = 'retrain' FOR UPDATE`,
      );
      const row = rows[0];
      if (row && row.holder !== '' && row.holder !== holder && nowMs - row.renewed_ms < row.lease_ms) return false;
      await client.query(`UPDATE retrain_lock SET holder = $1, renewed_ms = $2, lease_ms = $3 WHERE name = 'retrain'`, [
        holder,
        nowMs,
        leaseMs,
      ]);
      return true;
    });
  }

  async renewLock(holder: string, nowMs: number): Promise<boolean> {
    const { rowCount } = await this.pool.query(`UPDATE retrain_lock SET renewed_ms = $2 WHERE name = 'retrain' AND holder = $1`, [
      holder,
      nowMs,
    ]);
    return rowCount === 1;
  }

  async releaseLock(holder: string): Promise<void> {
    await this.pool.query(`UPDATE retrain_lock SET holder = '', lease_ms = 0 WHERE name = 'retrain' AND holder = $1`, [holder]);
  }
}
