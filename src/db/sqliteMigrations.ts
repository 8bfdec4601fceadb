import type Database from 'better-sqlite3';

/**
 * Numbered SQLite schema migrations of the one database every store shares (events, alerts, releases,
 * samples, jobs). `PRAGMA user_version` holds the last one applied; each runs in its own
 * transaction together with the version bump, so a crash leaves the database at a whole version.
 * Append only: never edit a migration that has shipped.
 */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE events (
        id TEXT PRIMARY KEY NOT NULL,
        type TEXT NOT NULL,
        ts INTEGER NOT NULL,
        -- min(ts, received_ms): windows use it so a client clock in the future cannot park events
        -- in every window, while offline replays still land at (roughly) when they happened.
        at_ms INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        site_key TEXT NOT NULL,
        install_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        backend TEXT,
        ms REAL,
        bytes INTEGER,
        from_cache INTEGER,
        fallback_reason TEXT,
        top_class TEXT,
        score REAL,
        prediction_id TEXT,
        label TEXT,
        predicted TEXT,
        error_code TEXT,
        device_key TEXT,
        payload TEXT NOT NULL
      );
      CREATE INDEX events_type_at ON events (type, at_ms);
      CREATE INDEX events_inference_prediction ON events (prediction_id) WHERE type = 'inference';
      CREATE INDEX events_session ON events (session_id) WHERE type = 'session';
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        rule TEXT NOT NULL,
        metric TEXT NOT NULL,
        series TEXT NOT NULL,
        labels TEXT NOT NULL,
        op TEXT NOT NULL,
        threshold REAL NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        value REAL NOT NULL,
        samples INTEGER NOT NULL,
        fired_at_ms INTEGER NOT NULL,
        resolved_at_ms INTEGER,
        resolved_value REAL
      );
      CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule, series) WHERE state = 'firing';
      CREATE TABLE monitor_samples (
        at_ms INTEGER NOT NULL,
        metric TEXT NOT NULL,
        labels TEXT NOT NULL,
        value REAL NOT NULL,
        samples INTEGER NOT NULL
      );
      CREATE INDEX monitor_samples_metric_at ON monitor_samples (metric, at_ms);
    `,
  },
  {
    version: 3,
    // The model ids and versions admitted as keys per site (ModelKeyBudget), so the budget survives a
    // restart without scanning every event. model_version '' stands for "no version" (session events).
    sql: `
      CREATE TABLE model_keys (
        site_key TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        PRIMARY KEY (site_key, model_id, model_version)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    // Model releases (src/releases): bytes content-addressed in a blob table, one row per published
    // version (the registry's entries are seeded as the first stable ones), and every rollout decision
    // with its evidence. Publishing writes blob and release in one transaction.
    sql: `
      CREATE TABLE release_blobs (
        sha256 TEXT PRIMARY KEY NOT NULL,
        bytes BLOB NOT NULL
      );
      CREATE TABLE releases (
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        entry TEXT NOT NULL,
        url TEXT NOT NULL,
        notes TEXT,
        metrics TEXT,
        published_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('stable', 'candidate', 'rolled_back', 'retired')),
        percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
        rollout_started_ms INTEGER,
        PRIMARY KEY (model_id, version)
      );
      CREATE UNIQUE INDEX releases_seq ON releases (model_id, seq);
      CREATE TABLE release_decisions (
        id INTEGER PRIMARY KEY,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        action TEXT NOT NULL,
        from_percent INTEGER NOT NULL,
        to_percent INTEGER NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL
      );
      CREATE INDEX release_decisions_model ON release_decisions (model_id, at_ms);
      CREATE INDEX events_model_version_received ON events (model_id, model_version, type, received_ms);
    `,
  },
  {
    version: 5,
    // Consented training samples (the inputs of `sample` events; src/collector/SampleStore.ts). The
    // event itself is an `events` row too (without its inputs): the id dedupes there, in the same
    // transaction. seq is the order of receipt, the dataset export's cursor. label and predicted are
    // JSON, so class 3 and "3" come back as they were sent.
    sql: `
      CREATE TABLE samples (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        received_ms INTEGER NOT NULL,
        site_key TEXT NOT NULL,
        install_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        prediction_id TEXT NOT NULL,
        label TEXT NOT NULL,
        predicted TEXT,
        inputs TEXT NOT NULL
      );
      CREATE INDEX samples_model_received ON samples (model_id, received_ms, seq);
    `,
  },
  {
    version: 6,
    // Retraining jobs (src/retrain): one row per job, and a one-row lease table that makes "one job at a
    // time" hold across every process sharing this file.
    sql: `
      CREATE TABLE retrain_jobs (
        id TEXT PRIMARY KEY NOT NULL,
        model_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'refused', 'failed')),
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        finished_ms INTEGER,
        duration_ms INTEGER,
        base_version TEXT,
        metrics TEXT,
        data_summary TEXT,
        reason TEXT,
        log_tail TEXT NOT NULL DEFAULT '',
        result_version TEXT
      );
      CREATE INDEX retrain_jobs_created ON retrain_jobs (created_ms);
      CREATE TABLE retrain_lock (
        name TEXT PRIMARY KEY NOT NULL,
        holder TEXT NOT NULL,
        renewed_ms INTEGER NOT NULL,
        lease_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    // The release decision loop's latest pass (src/releases/ReleaseService.ts), shared by every process on
    // the database so a release status reads the same whichever instance answers: per model the latest
    // evaluation, and under model_id '' the time of the last pass over all models.
    sql: `
      CREATE TABLE release_evaluations (
        model_id TEXT PRIMARY KEY NOT NULL,
        at_ms INTEGER NOT NULL,
        version TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 8,
    // Federated rounds (src/federated): a job's rounds with what each offered (the head, as JSON) and, once
    // closed, its figures; the clients' updates of a round, one per install (the key refuses a second), whose
    // bodies are deleted when the round closes: only the aggregate is kept.
    sql: `
      CREATE TABLE federated_rounds (
        id TEXT PRIMARY KEY NOT NULL,
        job_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('train', 'evaluate')),
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        offer TEXT NOT NULL,
        opened_ms INTEGER NOT NULL,
        deadline_ms INTEGER NOT NULL,
        closed_ms INTEGER,
        summary TEXT
      );
      CREATE INDEX federated_rounds_model_state ON federated_rounds (model_id, state);
      CREATE INDEX federated_rounds_job ON federated_rounds (job_id, seq);
      CREATE TABLE federated_updates (
        round_id TEXT NOT NULL,
        install_id TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        body TEXT,
        PRIMARY KEY (round_id, install_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 9,
    // Where a retraining job's trainer runs (src/retrain/trainerProcess.ts, JSON): a server started after a
    // crash fails the job its lease no longer covers and kills that process group if it is still alive.
    sql: `ALTER TABLE retrain_jobs ADD COLUMN trainer TEXT;`,
  },
  {
    version: 10,
    // A release is a set of files (the ONNX file and its external data), each stored content-addressed in
    // chunks (src/releases/ObjectStore.ts): no value is larger than one chunk, so a 2.5 GB set is streamed in
    // and out with bounded memory. A write's chunks are kept under its own key until the whole file is
    // received and its sha256 checked, then one row in release_objects names them; a killed upload leaves
    // only chunks no object names, removed by the garbage collection. release_files lists each version's
    // files (what the files route serves and what keeps an object from being collected).
    sql: `
      CREATE TABLE release_object_writes (
        key TEXT PRIMARY KEY NOT NULL,
        started_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE release_object_chunks (
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (key, seq)
      );
      CREATE TABLE release_objects (
        sha256 TEXT PRIMARY KEY NOT NULL,
        bytes INTEGER NOT NULL,
        chunk_bytes INTEGER NOT NULL,
        chunks INTEGER NOT NULL,
        key TEXT NOT NULL,
        touched_ms INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE release_files (
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('model', 'data', 'optimized', 'features')),
        location TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (model_id, version, role, location)
      ) WITHOUT ROWID;
      CREATE INDEX release_files_sha256 ON release_files (sha256);
    `,
  },
];

/** Bring `db` up to the latest version. Refuses a database written by a newer collector. */
export function migrateSqlite(db: Database.Database): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
  if (from > latest) {
    throw new Error(`database schema version ${from} is newer than this collector (${latest}); refusing to downgrade`);
  }
  for (const m of SQLITE_MIGRATIONS) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return { from, to: latest };
}
