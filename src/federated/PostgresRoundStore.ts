import type pg from 'pg';
import { inTransaction } from '../db/openPostgresPool';
import { ROUND_LIST_COLUMNS, roundOf, type RoundRow } from './roundRows';
import type { AddUpdateResult, Round, RoundStore } from './RoundStore';

/**
 * Federated rounds on PostgreSQL (migration 5), the counterpart of SqliteRoundStore. An update is taken under a
 * share lock on its round's row, and closing takes the row's exclusive lock: no update lands after a round closed.
 */
export class PostgresRoundStore implements RoundStore {
  constructor(private readonly pool: pg.Pool) {}

  async open(round: Omit<Round, 'state' | 'closedMs' | 'summary'>): Promise<void> {
    await this.pool.query(
      `INSERT INTO federated_rounds (id, job_id, model_id, seq, kind, state, offer, opened_ms, deadline_ms)
       VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8)`,
      [round.id, round.jobId, round.modelId, round.seq, round.kind, JSON.stringify(round.offer), round.openedMs, round.deadlineMs],
    );
  }

  async get(id: string): Promise<Round | undefined> {
    const { rows } = await this.pool.query<RoundRow & { offer: string }>('SELECT * FROM federated_rounds WHERE id = $1', [id]);
    return rows[0] && roundOf(rows[0]);
  }

  async openRoundOf(modelId: string, nowMs: number): Promise<Round | undefined> {
    const { rows } = await this.pool.query<RoundRow & { offer: string }>(
      `SELECT * FROM federated_rounds WHERE model_id = $1 AND state = 'open' AND deadline_ms > $2 ORDER BY opened_ms DESC LIMIT 1`,
      [modelId, nowMs],
    );
    return rows[0] && roundOf(rows[0]);
  }

  async addUpdate(roundId: string, installId: string, body: string, nowMs: number): Promise<AddUpdateResult> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ state: string }>('SELECT state FROM federated_rounds WHERE id = $1 FOR SHARE', [roundId]);
      if (!rows[0]) return 'unknown';
      if (rows[0].state !== 'open') return 'closed';
      const inserted = await client.query(
        'INSERT INTO federated_updates (round_id, install_id, received_ms, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [roundId, installId, nowMs, body],
      );
      return inserted.rowCount === 1 ? 'added' : 'duplicate';
    });
  }

  async hasUpdate(roundId: string, installId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM federated_updates WHERE round_id = $1 AND install_id = $2', [
      roundId,
      installId,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async countUpdates(roundId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM federated_updates WHERE round_id = $1', [roundId]);
    return Number(rows[0].n);
  }

  async close(roundId: string, nowMs: number): Promise<{ installId: string; body: string }[]> {
    return inTransaction(this.pool, async (client) => {
      await client.query(`UPDATE federated_rounds SET state = 'closed', closed_ms = $1 WHERE id = $2 AND state = 'open'`, [nowMs, roundId]);
      const { rows } = await client.query<{ install_id: string; body: string }>(
        'SELECT install_id, body FROM federated_updates WHERE round_id = $1 AND body IS NOT NULL ORDER BY received_ms, install_id',
        [roundId],
      );
      return rows.map((r) => ({ installId: r.install_id, body: r.body }));
    });
  }

  async finish(roundId: string, summary: Record<string, unknown>): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('UPDATE federated_rounds SET summary = $1 WHERE id = $2', [JSON.stringify(summary), roundId]);
      await client.query('UPDATE federated_updates SET body = NULL WHERE round_id = $1', [roundId]);
    });
  }

  async closeAll(modelId: string | undefined, nowMs: number): Promise<number> {
    const { rowCount } =
      modelId === undefined
        ? await this.pool.query(`UPDATE federated_rounds SET state = 'closed', closed_ms = $1 WHERE state = 'open'`, [nowMs])
        : await this.pool.query(`UPDATE federated_rounds SET state = 'closed', closed_ms = $1 WHERE state = 'open' AND model_id = $2`, [
            nowMs,
            modelId,
          ]);
    return rowCount ?? 0;
  }

  async listRounds(jobId: string): Promise<Omit<Round, 'offer'>[]> {
    const { rows } = await this.pool.query<RoundRow>(`SELECT ${ROUND_LIST_COLUMNS} FROM federated_rounds WHERE job_id = $1 ORDER BY seq`, [
      jobId,
    ]);
    return rows.map((row) => roundOf(row));
  }
}
