// The real collector process (`npm run collector`) and the `npm start` server on PostgreSQL through
// COLLECTOR_DATABASE_URL: what they acknowledge is in the database, survives kill -9, and a retry after the
// restart is all duplicates; published releases and their bytes are served from the database.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
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
import { call, publish, setPercent, startReleaseServer } from '../releases/startReleaseServer';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';

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
        {
          id: randomUUID(),
          ts: Date.now(),
          installId: 'install-1',
          sessionId: 'session-1',
          type: 'sample' as const,
          modelId: 'digits',
          modelVersion: '1',
          predictionId: randomUUID(),
          label: 7,
          inputs: { image: { type: 'float32' as const, dims: [1, 1, 2, 2], data: [0, 0.5, 1, 0.25] } },
        },
      ];
      const ack = await postEvents(first.url, { siteKey: 'demo', events });
      expect(ack.status).toBe(200);
      expect(ack.body).toMatchObject({ accepted: 33, stored: 33, duplicates: 0 });
      const summary = (await getJson(`${first.url}/v1/summary?window=1h`)).body;
      expect(summary.events).toEqual({ inference: 30, model_load: 1, error: 1, sample: 1 });
      const dataset = await fetch(`${first.url}/v1/datasets/digits`, { signal: AbortSignal.timeout(15_000) });
      expect(dataset.status).toBe(200);
      const lines = (await dataset.text()).split('\n').filter(Boolean);
      expect(lines.map((l) => JSON.parse(l) as { id: string; inputs: unknown })).toEqual([
        expect.objectContaining({
          id: events[32].id,
          label: 7,
          inputs: { image: { type: 'float32', dims: [1, 1, 2, 2], data: [0, 0.5, 1, 0.25] } },
        }),
      ]);

      await first.kill();
      expect(existsSync(sqlitePath)).toBe(false);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM events WHERE id = ANY($1)', [events.map((e) => e.id)]);
        expect(Number(rows[0].n)).toBe(33);
      } finally {
        await db.end();
      }

      const second = await start();
      try {
        const retry = await postEvents(second.url, { siteKey: 'demo', events });
        expect(retry.body).toMatchObject({ accepted: 33, stored: 0, duplicates: 33 });
        const again = (await getJson(`${second.url}/v1/summary?window=1h`)).body;
        expect(again.events).toEqual({ inference: 30, model_load: 1, error: 1, sample: 1 });
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

  it('a multi-file version published through one instance is served, and checked again, by another with an empty disk copy', async () => {
    const url = await createDatabase(server.url, 'multi_file');
    const set = writeTransformerModel({ dir: join(dir, 'set'), bytes: 12e6, shards: 3, locations: ['a.bin', 'w/b.bin', 'onnx::c'] });
    const first = await startReleaseServer({ env: { COLLECTOR_DATABASE_URL: url, ONDEVICE_RELEASE_FILES_DIR: join(dir, 'files-1') } });
    try {
      execFileSync(process.execPath, ['bin/ondevice.mjs', 'release', 'publish', set.model, '--model', 'pg-shards', '--version', '1'], {
        env: { ...process.env, ONDEVICE_SERVER: first.url },
        stdio: 'pipe',
      });
    } finally {
      await first.stop();
    }
    const filesDir = join(dir, 'files-2');
    const second = await startReleaseServer({ env: { COLLECTOR_DATABASE_URL: url, ONDEVICE_RELEASE_FILES_DIR: filesDir } });
    try {
      const entry = (await call(`${second.url}/v1/manifest?install=pg`)).body.models['pg-shards'];
      expect(entry.externalData.map((d: { location: string }) => d.location)).toEqual(['a.bin', 'w/b.bin', 'onnx::c']);
      for (const [i, file] of set.files.entries()) {
        const res = await fetch(new URL(entry.externalData[i].url, second.url), { signal: AbortSignal.timeout(20_000) });
        const sha = createHash('sha256')
          .update(new Uint8Array(await res.arrayBuffer()))
          .digest('hex');
        expect(sha).toBe(file.sha256);
      }
      // Publishing the same files as version 2 on this instance: nothing to upload, and the check reads them from its
      // own disk copy, copied out of PostgreSQL first.
      const listing = {
        model: { sha256: set.modelSha256, bytes: set.modelBytes },
        externalData: set.files.map((f) => ({ location: f.location, sha256: f.sha256, bytes: f.bytes })),
      };
      const published = await call(`${second.url}/v1/releases/pg-shards/2/files`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(listing),
      });
      expect([published.status, published.body.release?.state]).toEqual([201, 'candidate']);
      for (const file of set.files) expect(existsSync(join(filesDir, 'objects', file.sha256))).toBe(true);
    } finally {
      await second.stop();
      second.cleanup();
    }
  }, 120_000);
});
