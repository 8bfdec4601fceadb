// The real collector process (`npm run collector`) and the `npm start` server on PostgreSQL through
// COLLECTOR_DATABASE_URL: what they acknowledge is in the database, survives kill -9, and a retry after the
// restart is all duplicates; published releases and their bytes are served from the database.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorEvent, inferenceEvent, modelLoadEvent } from '../collector/makeEvents';
import { getJson, postEvents } from '../collector/startCollector';
import { startAppServer } from '../helpers/appServer';
import { createDatabase, startPostgres, type StartedPostgres } from '../helpers/postgres';
import { spawnServer } from '../helpers/spawnServer';
import { call, publish, setPercent } from '../releases/startReleaseServer';

describe('servers on PostgreSQL (COLLECTOR_DATABASE_URL)', () => {
  let server: StartedPostgres;
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-pg-processes-'));
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the collector stores on PostgreSQL, ignores the SQLite path, and dedupes a retry after kill -9', async () => {
    const url = await createDatabase(server.url, 'collector_process');
    const sqlitePath = join(dir, 'never-created.sqlite');
    const start = () =>
      spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
        env: {
          COLLECTOR_DATABASE_URL: url,
          COLLECTOR_DB_PATH: sqlitePath,
          COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
          COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
          COLLECTOR_RETENTION_DAYS: '30',
        },
      });
    const first = await start();
    try {
      expect(first.output()).toContain(`COLLECTOR_DB_PATH ${sqlitePath} is ignored`);
      const events = [
        ...Array.from({ length: 30 }, (_, i) => inferenceEvent({ modelId: 'pg-process', ms: 5 + i })),
        modelLoadEvent({ modelId: 'pg-process' }),
        errorEvent({ modelId: 'pg-process' }),
      ];
      const ack = await postEvents(first.url, { siteKey: 'demo', events });
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ accepted: 32, stored: 32, duplicates: 0 });
      const summary = (await getJson(`${first.url}/v1/summary?window=1h`)).body;
      expect(summary.events).toEqual({ inference: 30, model_load: 1, error: 1 });

      await first.kill();
      expect(existsSync(sqlitePath)).toBe(false);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM events WHERE id = ANY($1)', [events.map((e) => e.id)]);
        expect(Number(rows[0].n)).toBe(32);
      } finally {
        await db.end();
      }

      const second = await start();
      try {
        const retry = await postEvents(second.url, { siteKey: 'demo', events });
        expect(retry.body).toMatchObject({ accepted: 32, stored: 0, duplicates: 32 });
        const again = (await getJson(`${second.url}/v1/summary?window=1h`)).body;
        expect(again.events).toEqual({ inference: 30, model_load: 1, error: 1 });
        const group = again.groups.find((g: { modelId: string }) => g.modelId === 'pg-process');
        expect(group).toMatchObject({ count: 30, latencyMs: { mean: 19.5 } });
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  }, 120_000);

  it('npm start keeps published releases and their bytes in PostgreSQL across a restart', async () => {
    const url = await createDatabase(server.url, 'app_process');
    const bytes = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));
    const env = { COLLECTOR_DATABASE_URL: url };
    const first = await startAppServer(env);
    try {
      expect((await publish(first.url, 'tiny-mlp', '2', bytes)).status).toBe(201);
      expect((await setPercent(first.url, 'tiny-mlp', '2', 100)).status).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await startAppServer(env);
    try {
      const manifest = await call(`${second.url}/v1/manifest?install=pg-restart`);
      expect(manifest.status).toBe(200);
      const entry = manifest.body.models['tiny-mlp'];
      expect(entry.version).toBe('2');
      const served = await fetch(`${second.url}${entry.url}`, { signal: AbortSignal.timeout(10_000) });
      expect(served.status).toBe(200);
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
