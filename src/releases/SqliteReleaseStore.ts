import type Database from 'better-sqlite3';
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
import type { Decision, Evaluation, NewRelease, PublishOutcome, Release, ReleaseFile, ReleaseState, ReleaseStore } from './ReleaseStore';
import { SqliteObjectStore } from './SqliteObjectStore';

/**
 * Releases in the collector's SQLite database (migrations 4 and 10). Rows are mapped by column name; every write
 * that spans tables is one transaction, so a crash leaves a version either wholly published or absent.
 */
export class SqliteReleaseStore implements ReleaseStore {
  readonly objects: SqliteObjectStore;
  private readonly insertFile;
  private readonly selectFiles;
  private readonly objectExists;
  private readonly insertRelease;
  private readonly selectStable;
  private readonly insertDecision;
  private readonly selectOne;
  private readonly selectModel;
  private readonly selectIds;
  private readonly selectBlob;
  private readonly updateState;
  private readonly retireStable;
  private readonly selectDecisions;

  constructor(private readonly db: Database.Database) {
    this.objects = new SqliteObjectStore(db);
    this.insertFile = db.prepare(`INSERT INTO release_files (model_id, version, role, location, sha256, bytes)
      VALUES (@modelId, @version, @role, @location, @sha256, @bytes)`);
    this.selectFiles = db.prepare(
      "SELECT role, location, sha256, bytes FROM release_files WHERE model_id = ? AND version = ? ORDER BY CASE role WHEN 'model' THEN 0 WHEN 'data' THEN 1 ELSE 2 END, location",
    );
    this.objectExists = db.prepare('SELECT 1 FROM release_objects WHERE sha256 = ?');
    this.insertRelease = db.prepare(`INSERT OR IGNORE INTO releases (${NEW_RELEASE_COLUMNS.join(', ')}, seq)
      VALUES (${NEW_RELEASE_COLUMNS.map((c) => `@${c}`).join(', ')},
              (SELECT COALESCE(MAX(seq), 0) + 1 FROM releases WHERE model_id = @model_id))`);
    this.insertDecision = db.prepare(
      `INSERT INTO release_decisions (${DECISION_COLUMNS.join(', ')}) VALUES (${DECISION_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    this.selectOne = db.prepare('SELECT * FROM releases WHERE model_id = ? AND version = ?');
    this.selectStable = db.prepare("SELECT 1 FROM releases WHERE model_id = ? AND state = 'stable' LIMIT 1");
    this.selectModel = db.prepare('SELECT * FROM releases WHERE model_id = ? ORDER BY seq');
    this.selectIds = db.prepare('SELECT DISTINCT model_id FROM releases ORDER BY model_id');
    this.selectBlob = db.prepare('SELECT bytes FROM release_blobs WHERE sha256 = ?');
    this.updateState = db.prepare(`UPDATE releases SET state = @state, percent = @percent,
      rollout_started_ms = CASE WHEN @percent > 0 AND rollout_started_ms IS NULL THEN @atMs ELSE rollout_started_ms END
      WHERE model_id = @modelId AND version = @version`);
    this.retireStable = db.prepare(
      "UPDATE releases SET state = 'retired', percent = 0 WHERE model_id = ? AND state = 'stable' AND version <> ?",
    );
    this.selectDecisions = db.prepare('SELECT * FROM release_decisions WHERE model_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?');
  }

  async publish(release: NewRelease, decision: Decision): Promise<PublishOutcome> {
    // IMMEDIATE: the write lock from the start, so another process sharing the file cannot slip a stable
    // release in between the check and the insert.
    return this.db
      .transaction((): PublishOutcome => {
        if (release.state === 'stable' && this.selectStable.get(release.modelId)) return 'stable-exists';
        // One transaction with the garbage collection's deletes (SQLite runs one writer at a time), so an object
        // found here is still there when the version commits.
        const missing = (release.files ?? []).filter((f) => !this.objectExists.get(f.sha256)).map((f) => f.sha256);
        if (missing.length > 0) throw new MissingObjectsError(missing);
        const inserted = this.insertRelease.run(releaseRowOf(release));
        if (inserted.changes === 0) return 'version-exists';
        for (const f of release.files ?? []) this.insertFile.run({ modelId: release.modelId, version: release.version, ...f });
        this.insertDecision.run(decisionRowOf(decision));
        return 'published';
      })
      .immediate();
  }

  async files(modelId: string, version: string): Promise<ReleaseFile[]> {
    return this.selectFiles.all(modelId, version) as ReleaseFile[];
  }

  async get(modelId: string, version: string): Promise<Release | undefined> {
    const row = this.selectOne.get(modelId, version) as ReleaseRow | undefined;
    return row && releaseOf(row);
  }

  async list(modelId: string): Promise<Release[]> {
    return (this.selectModel.all(modelId) as ReleaseRow[]).map(releaseOf);
  }

  async modelIds(): Promise<string[]> {
    return (this.selectIds.all() as Array<{ model_id: string }>).map((r) => r.model_id);
  }

  async readBlob(sha256: string): Promise<Uint8Array | undefined> {
    const object = await this.objects.object(sha256);
    if (object) return readWhole(this.objects, object);
    const row = this.selectBlob.get(sha256) as { bytes: Buffer } | undefined;
    return row && new Uint8Array(row.bytes.buffer, row.bytes.byteOffset, row.bytes.byteLength);
  }

  async transition(
    change: { modelId: string; version: string; state: ReleaseState; percent: number; atMs: number },
    decision: Decision,
  ): Promise<void> {
    this.db.transaction(() => {
      if (change.state === 'stable') this.retireStable.run(change.modelId, change.version);
      this.updateState.run(change);
      this.insertDecision.run(decisionRowOf(decision));
    })();
  }

  async record(decision: Decision): Promise<void> {
    this.insertDecision.run(decisionRowOf(decision));
  }

  async saveEvaluation(e: Evaluation): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO release_evaluations (model_id, at_ms, version, action, reason) VALUES (@modelId, @atMs, @version, @action, @reason)
         ON CONFLICT (model_id) DO UPDATE SET at_ms = excluded.at_ms, version = excluded.version, action = excluded.action, reason = excluded.reason`,
      )
      .run(e);
  }

  async lastEvaluation(modelId: string): Promise<Evaluation | undefined> {
    if (modelId === '') return undefined;
    const row = this.db
      .prepare('SELECT model_id AS modelId, at_ms AS atMs, version, action, reason FROM release_evaluations WHERE model_id = ?')
      .get(modelId) as Evaluation | undefined;
    return row;
  }

  async savePass(atMs: number): Promise<void> {
    await this.saveEvaluation({ modelId: '', atMs, version: '', action: 'pass', reason: '' });
  }

  async lastPassAtMs(): Promise<number | null> {
    const row = this.db.prepare("SELECT at_ms AS atMs FROM release_evaluations WHERE model_id = ''").get() as { atMs: number } | undefined;
    return row?.atMs ?? null;
  }

  async decisions(modelId: string, limit: number): Promise<Decision[]> {
    return (this.selectDecisions.all(modelId, limit) as DecisionRow[]).map(decisionOf);
  }
}
