import type pg from 'pg';
import { inTransaction } from '../db/openPostgresPool';
import {
  DECISION_COLUMNS,
  NEW_RELEASE_COLUMNS,
  decisionOf,
  decisionRowOf,
  releaseOf,
  releaseRowOf,
  type DecisionRow,
  type ReleaseRow,
} from './releaseRows';
import { MissingObjectsError } from './ObjectStore';
import { readWhole } from './readWhole';
import { PostgresObjectStore } from './PostgresObjectStore';
import type { Decision, Evaluation, NewRelease, PublishOutcome, Release, ReleaseFile, ReleaseState, ReleaseStore } from './ReleaseStore';

/** `$1, $2, …` for `columns`. */
const placeholders = (columns: readonly string[]) => columns.map((_, i) => `$${i + 1}`).join(', ');
const INSERT_DECISION_SQL = `INSERT INTO release_decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${placeholders(DECISION_COLUMNS)})`;
// model_id is the first column ($1): seq is one more than that model's last.
const INSERT_RELEASE_SQL = `INSERT INTO releases (${NEW_RELEASE_COLUMNS.join(', ')}, seq)
  VALUES (${placeholders(NEW_RELEASE_COLUMNS)}, (SELECT COALESCE(MAX(seq), 0) + 1 FROM releases WHERE model_id = $1))
  ON CONFLICT (model_id, version) DO NOTHING`;

/** Fixed namespace of the per-model advisory locks that serialise publishes (seq is per model). */
const PUBLISH_LOCK_NAMESPACE = 7_114_003;

/**
 * Releases on PostgreSQL (the schema of src/db/postgresMigrations.ts), the counterpart of SqliteReleaseStore: bytes
 * content-addressed in `release_blobs` (BYTEA), every write that spans tables in one transaction. Several
 * instances may publish at once: a per-model advisory lock orders their `seq`.
 */
export class PostgresReleaseStore implements ReleaseStore {
  readonly objects: PostgresObjectStore;

  constructor(private readonly pool: pg.Pool) {
    this.objects = new PostgresObjectStore(pool);
  }

  async publish(release: NewRelease, decision: Decision): Promise<PublishOutcome> {
    return inTransaction(this.pool, async (client): Promise<PublishOutcome> => {
      // Publishes of one model take turns (released at commit), so the stable check below sees the one before.
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PUBLISH_LOCK_NAMESPACE, release.modelId]);
      if (release.state === 'stable') {
        const stable = await client.query("SELECT 1 FROM releases WHERE model_id = $1 AND state = 'stable' LIMIT 1", [release.modelId]);
        if ((stable.rowCount ?? 0) > 0) return 'stable-exists';
      }
      // Share-locks the objects the version names until it commits (the garbage collection's delete waits, then
      // fails on the foreign key), and finds the missing ones before anything is inserted.
      const files = release.files ?? [];
      const found = await client.query<{ sha256: string }>('SELECT sha256 FROM release_objects WHERE sha256 = ANY($1) FOR KEY SHARE', [
        files.map((f) => f.sha256),
      ]);
      const present = new Set(found.rows.map((r) => r.sha256));
      const missing = files.filter((f) => !present.has(f.sha256)).map((f) => f.sha256);
      if (missing.length > 0) throw new MissingObjectsError(missing);
      const row = releaseRowOf(release);
      const inserted = await client.query(
        INSERT_RELEASE_SQL,
        NEW_RELEASE_COLUMNS.map((c) => row[c]),
      );
      if (inserted.rowCount === 0) return 'version-exists';
      for (const f of files)
        await client.query('INSERT INTO release_files (model_id, version, role, location, sha256, bytes) VALUES ($1, $2, $3, $4, $5, $6)', [
          release.modelId,
          release.version,
          f.role,
          f.location,
          f.sha256,
          f.bytes,
        ]);
      await client.query(INSERT_DECISION_SQL, decisionValues(decision));
      return 'published';
    });
  }

  async files(modelId: string, version: string): Promise<ReleaseFile[]> {
    const { rows } = await this.pool.query<Omit<ReleaseFile, 'bytes'> & { bytes: string | number }>(
      `SELECT role, location, sha256, bytes FROM release_files WHERE model_id = $1 AND version = $2
       ORDER BY CASE role WHEN 'model' THEN 0 WHEN 'data' THEN 1 ELSE 2 END, location COLLATE "C"`,
      [modelId, version],
    );
    // BIGINT arrives as text.
    return rows.map((r) => ({ ...r, bytes: Number(r.bytes) }));
  }

  async get(modelId: string, version: string): Promise<Release | undefined> {
    const { rows } = await this.pool.query<ReleaseRow>('SELECT * FROM releases WHERE model_id = $1 AND version = $2', [modelId, version]);
    return rows[0] && releaseOf(rows[0]);
  }

  async list(modelId: string): Promise<Release[]> {
    const { rows } = await this.pool.query<ReleaseRow>('SELECT * FROM releases WHERE model_id = $1 ORDER BY seq', [modelId]);
    return rows.map(releaseOf);
  }

  async modelIds(): Promise<string[]> {
    // COLLATE "C": the byte order SQLite's ORDER BY uses, whatever the database's collation.
    const { rows } = await this.pool.query<{ model_id: string }>(
      'SELECT model_id FROM releases GROUP BY model_id ORDER BY model_id COLLATE "C"',
    );
    return rows.map((r) => r.model_id);
  }

  async readBlob(sha256: string): Promise<Uint8Array | undefined> {
    const object = await this.objects.object(sha256);
    if (object) return readWhole(this.objects, object);
    const { rows } = await this.pool.query<{ bytes: Buffer }>('SELECT bytes FROM release_blobs WHERE sha256 = $1', [sha256]);
    const b = rows[0]?.bytes;
    return b && new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  async transition(
    change: { modelId: string; version: string; state: ReleaseState; percent: number; atMs: number },
    decision: Decision,
  ): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      if (change.state === 'stable')
        await client.query(
          "UPDATE releases SET state = 'retired', percent = 0 WHERE model_id = $1 AND state = 'stable' AND version <> $2",
          [change.modelId, change.version],
        );
      await client.query(
        `UPDATE releases SET state = $3, percent = $4,
           rollout_started_ms = CASE WHEN $4 > 0 AND rollout_started_ms IS NULL THEN $5 ELSE rollout_started_ms END
         WHERE model_id = $1 AND version = $2`,
        [change.modelId, change.version, change.state, change.percent, change.atMs],
      );
      await client.query(INSERT_DECISION_SQL, decisionValues(decision));
    });
  }

  async record(decision: Decision): Promise<void> {
    await this.pool.query(INSERT_DECISION_SQL, decisionValues(decision));
  }

  async saveEvaluation(e: Evaluation): Promise<void> {
    await this.pool.query(
      `INSERT INTO release_evaluations (model_id, at_ms, version, action, reason) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (model_id) DO UPDATE SET at_ms = excluded.at_ms, version = excluded.version, action = excluded.action, reason = excluded.reason`,
      [e.modelId, e.atMs, e.version, e.action, e.reason],
    );
  }

  async lastEvaluation(modelId: string): Promise<Evaluation | undefined> {
    if (modelId === '') return undefined;
    const { rows } = await this.pool.query<Evaluation>(
      'SELECT model_id AS "modelId", at_ms AS "atMs", version, action, reason FROM release_evaluations WHERE model_id = $1',
      [modelId],
    );
    return rows[0];
  }

  async savePass(atMs: number): Promise<void> {
    await this.saveEvaluation({ modelId: '', atMs, version: '', action: 'pass', reason: '' });
  }

  async lastPassAtMs(): Promise<number | null> {
    const { rows } = await this.pool.query<{ atMs: number }>(`SELECT at_ms AS "atMs" FROM release_evaluations WHERE model_id = ''`);
    return rows[0]?.atMs ?? null;
  }

  async decisions(modelId: string, limit: number): Promise<Decision[]> {
    const { rows } = await this.pool.query<DecisionRow>(
      'SELECT * FROM release_decisions WHERE model_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2',
      [modelId, limit],
    );
    return rows.map(decisionOf);
  }
}

function decisionValues(d: Decision): unknown[] {
  const row = decisionRowOf(d);
  return DECISION_COLUMNS.map((c) => row[c]);
}
