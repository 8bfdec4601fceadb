import type Database from 'better-sqlite3';
import { ROUND_LIST_COLUMNS, roundOf, type RoundRow } from './roundRows';
import type { AddUpdateResult, Round, RoundStore } from './RoundStore';

/** Federated rounds in the collector's SQLite database (migration 8). Checks and writes of one update run in one IMMEDIATE transaction. */
export class SqliteRoundStore implements RoundStore {
  private readonly insertRound;
  private readonly selectRound;
  private readonly selectOpen;
  private readonly selectState;
  private readonly insertUpdate;
  private readonly selectUpdate;
  private readonly countRoundUpdates;
  private readonly closeRound;
  private readonly selectBodies;
  private readonly finishRound;
  private readonly dropBodies;
  private readonly selectJobRounds;

  constructor(private readonly db: Database.Database) {
    this.insertRound = db.prepare(
      `INSERT INTO federated_rounds (id, job_id, model_id, seq, kind, state, offer, opened_ms, deadline_ms)
       VALUES (@id, @jobId, @modelId, @seq, @kind, 'open', @offer, @openedMs, @deadlineMs)`,
    );
    this.selectRound = db.prepare('SELECT * FROM federated_rounds WHERE id = ?');
    this.selectOpen = db.prepare(
      `SELECT * FROM federated_rounds WHERE model_id = ? AND state = 'open' AND deadline_ms > ? ORDER BY opened_ms DESC LIMIT 1`,
    );
    this.selectState = db.prepare('SELECT state FROM federated_rounds WHERE id = ?');
    this.insertUpdate = db.prepare(
      'INSERT INTO federated_updates (round_id, install_id, received_ms, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.selectUpdate = db.prepare('SELECT 1 FROM federated_updates WHERE round_id = ? AND install_id = ?');
    this.countRoundUpdates = db.prepare('SELECT COUNT(*) AS n FROM federated_updates WHERE round_id = ?');
    this.closeRound = db.prepare(`UPDATE federated_rounds SET state = 'closed', closed_ms = ? WHERE id = ? AND state = 'open'`);
    this.selectBodies = db.prepare(
      'SELECT install_id, body FROM federated_updates WHERE round_id = ? AND body IS NOT NULL ORDER BY received_ms, install_id',
    );
    this.finishRound = db.prepare('UPDATE federated_rounds SET summary = ? WHERE id = ?');
    this.dropBodies = db.prepare('UPDATE federated_updates SET body = NULL WHERE round_id = ?');
    this.selectJobRounds = db.prepare(`SELECT ${ROUND_LIST_COLUMNS} FROM federated_rounds WHERE job_id = ? ORDER BY seq`);
  }

  async open(round: Omit<Round, 'state' | 'closedMs' | 'summary'>): Promise<void> {
    this.insertRound.run({ ...round, offer: JSON.stringify(round.offer) });
  }

  async get(id: string): Promise<Round | undefined> {
    const row = this.selectRound.get(id) as (RoundRow & { offer: string }) | undefined;
    return row && roundOf(row);
  }

  async openRoundOf(modelId: string, nowMs: number): Promise<Round | undefined> {
    const row = this.selectOpen.get(modelId, nowMs) as (RoundRow & { offer: string }) | undefined;
    return row && roundOf(row);
  }

  async addUpdate(roundId: string, installId: string, body: string, nowMs: number): Promise<AddUpdateResult> {
    return this.db
      .transaction((): AddUpdateResult => {
        const round = this.selectState.get(roundId) as { state: string } | undefined;
        if (!round) return 'unknown';
        if (round.state !== 'open') return 'closed';
        return this.insertUpdate.run(roundId, installId, nowMs, body).changes === 1 ? 'added' : 'duplicate';
      })
      .immediate();
  }

  async hasUpdate(roundId: string, installId: string): Promise<boolean> {
    return this.selectUpdate.get(roundId, installId) !== undefined;
  }

  async countUpdates(roundId: string): Promise<number> {
    return (this.countRoundUpdates.get(roundId) as { n: number }).n;
  }

  async close(roundId: string, nowMs: number): Promise<{ installId: string; body: string }[]> {
    return this.db
      .transaction(() => {
        this.closeRound.run(nowMs, roundId);
        return (this.selectBodies.all(roundId) as { install_id: string; body: string }[]).map((r) => ({
          installId: r.install_id,
          body: r.body,
        }));
      })
      .immediate();
  }

  async finish(roundId: string, summary: Record<string, unknown>): Promise<void> {
    this.db.transaction(() => {
      this.finishRound.run(JSON.stringify(summary), roundId);
      this.dropBodies.run(roundId);
    })();
  }

  async closeAll(modelId: string | undefined, nowMs: number): Promise<number> {
    const sql = `UPDATE federated_rounds SET state = 'closed', closed_ms = ? WHERE state = 'open'${modelId === undefined ? '' : ' AND model_id = ?'}`;
    return this.db.prepare(sql).run(...(modelId === undefined ? [nowMs] : [nowMs, modelId])).changes;
  }

  async listRounds(jobId: string): Promise<Omit<Round, 'offer'>[]> {
    return (this.selectJobRounds.all(jobId) as RoundRow[]).map((row) => roundOf(row));
  }
}
