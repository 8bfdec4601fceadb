import type Database from 'better-sqlite3';
import { MissingObjectsError } from './ObjectStore';
import { readWhole } from './readWhole';
import type { Decision, NewRelease, Release, ReleaseEntry, ReleaseFile, ReleaseState, ReleaseStore, Evaluation } from './ReleaseStore';
import { SqliteObjectStore } from './SqliteObjectStore';

interface ReleaseRow {
  model_id: string;
  version: string;
  seq: number;
  sha256: string;
  bytes: number;
  entry: string;
  notes: string | null;
  metrics: string | null;
  published_ms: number;
  state: ReleaseState;
  percent: number;
  rollout_started_ms: number | null;
}

interface DecisionRow {
  model_id: string;
  version: string;
  at_ms: number;
  action: Decision['action'];
  from_percent: number;
  to_percent: number;
  actor: Decision['actor'];
  reason: string;
  evidence: string;
}

/**
 * Releases in the collector's SQLite database (migrations 4 and 8). Rows are mapped by column name; every write
 * that spans tables is one transaction, so a crash leaves a version either wholly published or absent.
 */
export class SqliteReleaseStore implements ReleaseStore {
  readonly objects: SqliteObjectStore;
  private readonly insertFile;
  private readonly selectFiles;
  private readonly objectExists;
  private readonly insertRelease;
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
    this.insertRelease = db.prepare(`INSERT OR IGNORE INTO releases
      (model_id, version, seq, sha256, bytes, entry, url, notes, metrics, published_ms, state, percent, rollout_started_ms)
      VALUES (@modelId, @version, (SELECT COALESCE(MAX(seq), 0) + 1 FROM releases WHERE model_id = @modelId), @sha256, @bytes,
              @entry, @url, @notes, @metrics, @publishedMs, @state, @percent, @rolloutStartedMs)`);
    this.insertDecision = db.prepare(`INSERT INTO release_decisions
      (model_id, version, at_ms, action, from_percent, to_percent, actor, reason, evidence)
      VALUES (@modelId, @version, @atMs, @action, @fromPercent, @toPercent, @actor, @reason, @evidence)`);
    this.selectOne = db.prepare('SELECT * FROM releases WHERE model_id = ? AND version = ?');
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

  async publish(release: NewRelease, decision: Decision): Promise<boolean> {
    return this.db.transaction(() => {
      // One transaction with the garbage collection's deletes (SQLite runs one writer at a time), so an object
      // found here is still there when the version commits.
      const missing = (release.files ?? []).filter((f) => !this.objectExists.get(f.sha256)).map((f) => f.sha256);
      if (missing.length > 0) throw new MissingObjectsError(missing);
      const inserted = this.insertRelease.run({
        modelId: release.modelId,
        version: release.version,
        sha256: release.sha256,
        bytes: release.entry.bytes,
        entry: JSON.stringify(release.entry),
        url: release.entry.url,
        notes: release.notes,
        metrics: release.metrics === undefined ? null : JSON.stringify(release.metrics),
        publishedMs: release.publishedMs,
        state: release.state,
        percent: release.percent,
        rolloutStartedMs: release.percent > 0 ? release.publishedMs : null,
      });
      if (inserted.changes === 0) return false;
      for (const f of release.files ?? []) this.insertFile.run({ modelId: release.modelId, version: release.version, ...f });
      this.insertDecision.run(decisionParams(decision));
      return true;
    })();
  }

  async files(modelId: string, version: string): Promise<ReleaseFile[]> {
    return this.selectFiles.all(modelId, version) as ReleaseFile[];
  }

  async get(modelId: string, version: string): Promise<Release | undefined> {
    const row = this.selectOne.get(modelId, version) as ReleaseRow | undefined;
    return row && toRelease(row);
  }

  async list(modelId: string): Promise<Release[]> {
    return (this.selectModel.all(modelId) as ReleaseRow[]).map(toRelease);
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
      this.insertDecision.run(decisionParams(decision));
    })();
  }

  async record(decision: Decision): Promise<void> {
    this.insertDecision.run(decisionParams(decision));
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
    return (this.selectDecisions.all(modelId, limit) as DecisionRow[]).map((r) => ({
      modelId: r.model_id,
      version: r.version,
      atMs: r.at_ms,
      action: r.action,
      fromPercent: r.from_percent,
      toPercent: r.to_percent,
      actor: r.actor,
      reason: r.reason,
      evidence: JSON.parse(r.evidence) as unknown,
    }));
  }
}

function decisionParams(d: Decision) {
  return { ...d, evidence: JSON.stringify(d.evidence ?? null) };
}

function toRelease(row: ReleaseRow): Release {
  return {
    modelId: row.model_id,
    version: row.version,
    seq: row.seq,
    sha256: row.sha256,
    bytes: row.bytes,
    entry: JSON.parse(row.entry) as ReleaseEntry,
    notes: row.notes,
    metrics: row.metrics === null ? null : (JSON.parse(row.metrics) as unknown),
    publishedMs: row.published_ms,
    state: row.state,
    percent: row.percent,
    rolloutStartedMs: row.rollout_started_ms,
  };
}
