import pg from 'pg';

// BIGINT (20) and NUMERIC (1700, what SUM(bigint) returns) come back as strings by default; every such
// value here is a count or a millisecond timestamp well inside Number's exact range.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresPoolOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Bound on getting a connection (default 10 s). */
  connectionTimeoutMs?: number;
  /** Bound on one statement, server side (default 60 s). */
  statementTimeoutMs?: number;
}

/** A `pg` Pool for `url` (postgres://…) with numbers parsed as numbers and bounded waits. */
export function openPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 60_000,
    types,
  });
  // An idle client whose server goes away emits 'error' on the pool; without a listener that kills the
  // process. The next query gets a fresh connection (or the error).
  pool.on('error', () => undefined);
  return pool;
}

/** Run `work` in one transaction on one pooled connection; rolls back on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  } finally {
    client.release();
  }
}

/** Redact the password of a postgres:// URL for logs. */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
