import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, startPostgres, type StartedPostgres } from '../helpers/postgres';

describe('test/helpers/postgres', () => {
  let server: StartedPostgres | undefined;
  afterAll(() => server?.stop());

  it('starts a throwaway cluster, creates a database, and removes everything on stop', async () => {
    server = await startPostgres();
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const url = await createDatabase(server.url, 'harness_check');
    expect(url).toMatch(/\/harness_check$/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const r = await client.query<{ db: string; fsync: string }>("SELECT current_database() AS db, current_setting('fsync') AS fsync");
      expect(r.rows[0]).toEqual({ db: 'harness_check', fsync: 'off' });
    } finally {
      await client.end();
    }
    await expect(createDatabase(server.url, 'harness_check')).rejects.toThrow(/already exists/);

    const { dir } = server;
    expect(existsSync(dir)).toBe(true);
    await server.stop();
    expect(existsSync(dir)).toBe(false);
    const after = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    await expect(after.connect()).rejects.toThrow();
    await after.end().catch(() => undefined);
  });
});
