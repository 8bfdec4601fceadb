import type Database from 'better-sqlite3';

type Params = Record<string, unknown>;

/**
 * Prepared statements of one connection, cached by their SQL text. Parameters are named (`@sinceMs`)
 * and rows come back as objects keyed by column alias, never by position.
 */
export class SqliteStatements {
  private readonly cache = new Map<string, Database.Statement<[Params?]>>();

  constructor(readonly db: Database.Database) {}

  all<T>(sql: string, params: Params = {}): T[] {
    return this.prepare(sql).all(params) as T[];
  }

  get<T>(sql: string, params: Params = {}): T | undefined {
    return this.prepare(sql).get(params) as T | undefined;
  }

  run(sql: string, params: Params = {}): Database.RunResult {
    return this.prepare(sql).run(params);
  }

  prepare(sql: string): Database.Statement<[Params?]> {
    let s = this.cache.get(sql);
    if (!s) this.cache.set(sql, (s = this.db.prepare<[Params?]>(sql)));
    return s;
  }
}
