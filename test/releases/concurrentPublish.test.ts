// Concurrent first publishes of a new model, as real requests to real server processes: exactly one becomes
// the stable release, every other one a candidate at 0 %, on SQLite and on PostgreSQL (there also from two
// instances that share the database).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, startPostgres, type StartedPostgres } from '../helpers/postgres';
import { call, publish, startReleaseServer, type StartedReleaseServer } from './startReleaseServer';

const bytes = readFileSync('models/generated/tiny-mlp.onnx');
const RACERS = 6;

/** Publish `RACERS` versions of `modelId` at once (spread over `servers`), then read what the model has. */
async function race(servers: string[], modelId: string) {
  const answers = await Promise.all(
    Array.from({ length: RACERS }, (_, i) => publish(servers[i % servers.length], modelId, `v${i + 1}`, bytes)),
  );
  const status = await call(`${servers[0]}/v1/releases/${modelId}`);
  return { answers, status };
}

function expectOneStable({ answers, status }: Awaited<ReturnType<typeof race>>) {
  expect(answers.map((a) => a.status)).toEqual(new Array(RACERS).fill(201));
  const states = answers.map((a) => `${a.body.release.state} ${a.body.release.percent}`);
  expect(states.filter((s) => s === 'stable 100')).toHaveLength(1);
  expect(states.filter((s) => s === 'candidate 0')).toHaveLength(RACERS - 1);
  // What the store holds says the same, and the stable is the one whose answer said so.
  expect(status.status).toBe(200);
  const versions: { version: string; state: string; percent: number }[] = status.body.versions;
  expect(versions).toHaveLength(RACERS);
  const stable = versions.filter((v) => v.state === 'stable');
  expect(stable).toHaveLength(1);
  expect(stable[0].percent).toBe(100);
  expect(status.body.stable).toBe(stable[0].version);
  expect(answers.find((a) => a.body.release.state === 'stable')!.body.release.version).toBe(stable[0].version);
  expect(versions.filter((v) => v.state === 'candidate' && v.percent === 0)).toHaveLength(RACERS - 1);
}

describe('concurrent first publishes of a new model', () => {
  describe('SQLite', () => {
    let srv: StartedReleaseServer;
    beforeAll(async () => {
      srv = await startReleaseServer();
    });
    afterAll(async () => {
      await srv?.stop();
      srv?.cleanup();
    });

    it(`${RACERS} at once: one stable at 100 %, the others candidates at 0 %`, async () => {
      expectOneStable(await race([srv.url], 'race-sqlite'));
    });
  });

  describe('PostgreSQL, two instances sharing the database', () => {
    let pg: StartedPostgres;
    const servers: StartedReleaseServer[] = [];
    beforeAll(async () => {
      pg = await startPostgres();
      const url = await createDatabase(pg.url, 'concurrent_publish');
      for (let i = 0; i < 2; i++) servers.push(await startReleaseServer({ env: { COLLECTOR_DATABASE_URL: url } }));
    });
    afterAll(async () => {
      for (const s of servers) {
        await s.stop();
        s.cleanup();
      }
      await pg?.stop();
    });

    it(`${RACERS} at once over both instances: one stable at 100 %, the others candidates at 0 %`, async () => {
      expectOneStable(
        await race(
          servers.map((s) => s.url),
          'race-pg',
        ),
      );
    });
  });
});
