import type pg from 'pg';

/**
 * Numbered PostgreSQL schema migrations for every store (events, alerts, releases, samples, jobs), the
 * counterpart of ./sqliteMigrations.ts. `schema_migrations` holds the versions applied; each runs in its own transaction
 * under an advisory lock, so instances starting together migrate once. Append only.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    // Events are partitioned by receive day (range over received_ms, one partition per UTC day, created
    // ahead and on demand by ensureEventPartition). A unique constraint on a partitioned table must include
    // the partition key, so once-only delivery across days lives in event_ids (kept for the retention
    // period), written in the same transaction as the event.
    sql: `
      CREATE TABLE events (
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        ts BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        received_ms BIGINT NOT NULL,
        site_key TEXT NOT NULL,
        install_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        backend TEXT,
        ms DOUBLE PRECISION,
        bytes BIGINT,
        from_cache SMALLINT,
        fallback_reason TEXT,
        top_class TEXT,
        score DOUBLE PRECISION,
        prediction_id TEXT,
        label TEXT,
        predicted TEXT,
        error_code TEXT,
        device_key TEXT,
        payload TEXT NOT NULL
      ) PARTITION BY RANGE (received_ms);
      CREATE INDEX events_type_at ON events (type, at_ms);
      CREATE INDEX events_inference_prediction ON events (prediction_id) WHERE type = 'inference';
      CREATE INDEX events_session ON events (session_id) WHERE type = 'session';
      CREATE INDEX events_model_version_received ON events (model_id, model_version, type, received_ms);
      CREATE TABLE event_ids (
        id TEXT PRIMARY KEY,
        received_ms BIGINT NOT NULL
      );
      CREATE INDEX event_ids_received ON event_ids (received_ms);

      -- Per-minute rollups, maintained in the ingest transaction: summaries read them for whole minutes
      -- and raw events only for the partial minutes at a window's edges.
      CREATE TABLE rollup_counts (
        minute_ms BIGINT NOT NULL,
        type TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        backend TEXT,
        error_code TEXT,
        count BIGINT NOT NULL,
        ms_sum DOUBLE PRECISION NOT NULL,
        ms_count BIGINT NOT NULL,
        from_cache_sum BIGINT NOT NULL,
        from_cache_count BIGINT NOT NULL,
        UNIQUE NULLS NOT DISTINCT (minute_ms, type, model_id, model_version, backend, error_code)
      );
      CREATE TABLE rollup_latency (
        minute_ms BIGINT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        backend TEXT,
        bucket SMALLINT NOT NULL,
        count BIGINT NOT NULL,
        ms_sum DOUBLE PRECISION NOT NULL,
        UNIQUE NULLS NOT DISTINCT (minute_ms, model_id, model_version, backend, bucket)
      );
      CREATE TABLE rollup_predictions (
        minute_ms BIGINT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        top_class TEXT NOT NULL,
        count BIGINT NOT NULL,
        UNIQUE NULLS NOT DISTINCT (minute_ms, model_id, model_version, top_class)
      );

      CREATE TABLE model_keys (
        site_key TEXT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT NOT NULL,
        PRIMARY KEY (site_key, model_id, model_version)
      );

      CREATE TABLE alerts (
        id BIGSERIAL PRIMARY KEY,
        rule TEXT NOT NULL,
        metric TEXT NOT NULL,
        series TEXT NOT NULL,
        labels TEXT NOT NULL,
        op TEXT NOT NULL,
        threshold DOUBLE PRECISION NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
        value DOUBLE PRECISION NOT NULL,
        samples BIGINT NOT NULL,
        fired_at_ms BIGINT NOT NULL,
        resolved_at_ms BIGINT,
        resolved_value DOUBLE PRECISION
      );
      CREATE UNIQUE INDEX alerts_one_firing ON alerts (rule, series) WHERE state = 'firing';
      CREATE TABLE monitor_samples (
        at_ms BIGINT NOT NULL,
        metric TEXT NOT NULL,
        labels TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        samples BIGINT NOT NULL
      );
      CREATE INDEX monitor_samples_metric_at ON monitor_samples (metric, at_ms);

      CREATE TABLE release_blobs (
        sha256 TEXT PRIMARY KEY,
        bytes BYTEA NOT NULL
      );
      CREATE TABLE releases (
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        entry TEXT NOT NULL,
        url TEXT NOT NULL,
        notes TEXT,
        metrics TEXT,
        published_ms BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('stable', 'candidate', 'rolled_back', 'retired')),
        percent INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
        rollout_started_ms BIGINT,
        PRIMARY KEY (model_id, version)
      );
      CREATE UNIQUE INDEX releases_seq ON releases (model_id, seq);
      CREATE TABLE release_decisions (
        id BIGSERIAL PRIMARY KEY,
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        action TEXT NOT NULL,
        from_percent INTEGER NOT NULL,
        to_percent INTEGER NOT NULL,
        actor TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT NOT NULL
      );
      CREATE INDEX release_decisions_model ON release_decisions (model_id, at_ms);
    `,
  },
  {
    version: 2,
    // Consented training samples (SQLite migration 5) and retraining jobs with their one-row lock
    // (SQLite migration 6). seq orders receipt: the dataset export's cursor.
    sql: `
      CREATE TABLE samples (
        seq BIGSERIAL PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        received_ms BIGINT NOT NULL,
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
      CREATE INDEX samples_received ON samples (received_ms);
      CREATE TABLE retrain_jobs (
        id TEXT PRIMARY KEY,
        model_id TEXT NOT NULL,
        trigger TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'refused', 'failed')),
        created_ms BIGINT NOT NULL,
        started_ms BIGINT,
        finished_ms BIGINT,
        duration_ms BIGINT,
        base_version TEXT,
        metrics TEXT,
        data_summary TEXT,
        reason TEXT,
        log_tail TEXT NOT NULL DEFAULT '',
        result_version TEXT,
        created_seq BIGSERIAL
      );
      CREATE INDEX retrain_jobs_created ON retrain_jobs (created_ms);
      CREATE TABLE retrain_lock (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        renewed_ms BIGINT NOT NULL,
        lease_ms BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    // Device mix without the join on raw session events: which sessions ran inferences of a model version
    // on a backend in each minute (distinct), and each session's device classes (as many as its session
    // events named; received_ms the newest, for retention). Backfilled from the events already stored.
    sql: `
      CREATE TABLE rollup_session_minutes (
        minute_ms BIGINT NOT NULL,
        model_id TEXT NOT NULL,
        model_version TEXT,
        backend TEXT,
        session_id TEXT NOT NULL,
        UNIQUE NULLS NOT DISTINCT (minute_ms, model_id, model_version, backend, session_id)
      );
      CREATE TABLE session_devices (
        session_id TEXT NOT NULL,
        device_key TEXT,
        received_ms BIGINT NOT NULL,
        UNIQUE NULLS NOT DISTINCT (session_id, device_key)
      );
      CREATE INDEX session_devices_received ON session_devices (received_ms);
      INSERT INTO rollup_session_minutes
        SELECT DISTINCT (at_ms / 60000) * 60000, model_id, model_version, backend, session_id FROM events WHERE type = 'inference';
      INSERT INTO session_devices
        SELECT session_id, device_key, MAX(received_ms) FROM events WHERE type = 'session' GROUP BY 1, 2;
    `,
  },
  {
    version: 4,
    // The release decision loop's latest pass, shared by every instance (SQLite migration 7): per model the
    // latest evaluation, and under model_id '' the time of the last pass over all models.
    sql: `
      CREATE TABLE release_evaluations (
        model_id TEXT PRIMARY KEY,
        at_ms BIGINT NOT NULL,
        version TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    // Federated rounds and their updates (SQLite migration 8).
    sql: `
      CREATE TABLE federated_rounds (
        id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        model_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('train', 'evaluate')),
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        offer TEXT NOT NULL,
        opened_ms BIGINT NOT NULL,
        deadline_ms BIGINT NOT NULL,
        closed_ms BIGINT,
        summary TEXT
      );
      CREATE INDEX federated_rounds_model_state ON federated_rounds (model_id, state);
      CREATE INDEX federated_rounds_job ON federated_rounds (job_id, seq);
      CREATE TABLE federated_updates (
        round_id TEXT NOT NULL,
        install_id TEXT NOT NULL,
        received_ms BIGINT NOT NULL,
        body TEXT,
        PRIMARY KEY (round_id, install_id)
      );
    `,
  },
  {
    version: 6,
    // Where a retraining job's trainer runs (SQLite migration 9).
    sql: `ALTER TABLE retrain_jobs ADD COLUMN IF NOT EXISTS trainer TEXT;`,
  },
  {
    version: 7,
    // Release files stored content-addressed in chunks (SQLite migration 10). The foreign key makes a version's
    // files and the garbage collection exclude each other: a publish that names an object takes a key-share
    // lock on it, so a concurrent collection cannot delete it under the new version.
    sql: `
      CREATE TABLE release_object_writes (
        key TEXT PRIMARY KEY,
        started_ms BIGINT NOT NULL
      );
      CREATE TABLE release_object_chunks (
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        bytes BYTEA NOT NULL,
        PRIMARY KEY (key, seq)
      );
      CREATE TABLE release_objects (
        sha256 TEXT PRIMARY KEY,
        bytes BIGINT NOT NULL,
        chunk_bytes INTEGER NOT NULL,
        chunks INTEGER NOT NULL,
        key TEXT NOT NULL,
        touched_ms BIGINT NOT NULL
      );
      CREATE TABLE release_files (
        model_id TEXT NOT NULL,
        version TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('model', 'data', 'optimized', 'features')),
        location TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES release_objects (sha256),
        bytes BIGINT NOT NULL,
        PRIMARY KEY (model_id, version, role, location)
      );
      CREATE INDEX release_files_sha256 ON release_files (sha256);
    `,
  },
];

/** Arbitrary fixed key of the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 7_114_001;

/** Bring the database up to the latest version. Refuses a database written by a newer collector. */
export async function migratePostgres(pool: pg.Pool): Promise<{ from: number; to: number }> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)');
      const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      const from = rows[0].v ?? 0;
      const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;
      if (from > latest) {
        throw new Error(`database schema version ${from} is newer than this collector (${latest}); refusing to downgrade`);
      }
      for (const m of POSTGRES_MIGRATIONS) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      }
      return { from, to: latest };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
