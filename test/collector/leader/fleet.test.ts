import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertConfig } from '../../../src/collector/alertRules';
import type { TelemetryEvent } from '../../../src/core/eventSchema';
import { FailoverSender } from '../../helpers/failoverSender';
import { createDatabase, startPostgres } from '../../helpers/postgres';
import { spawnServer, type SpawnedServer } from '../../helpers/spawnServer';
import { errorEvent, inferenceEvent } from '../makeEvents';
import { getJson } from '../startCollector';
import { waitFor } from '../../helpers/waitFor';

const EVENTS = 20_000;
const BATCH = 50;
const STREAMS = 4;

const alerts: AlertConfig = {
  evaluationIntervalMs: 500,
  rules: [{ name: 'errors', metric: 'error_rate', op: '>', threshold: 0.2, windowMs: 10 * 60_000, minSamples: 50 }],
};

/**
 * The load-and-faults scenario a fleet must survive: two real collector processes on one real PostgreSQL, 20 000
 * events sent through both by a client that retries unacknowledged batches on the other instance (a
 * load balancer), the leader killed with SIGKILL mid-stream.
 */
describe('two collector instances on one PostgreSQL', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('loses no acknowledged event, stores none twice, and the survivor takes over the leader’s work', async () => {
    const server = await startPostgres();
    cleanups.push(() => server.stop());
    const url = await createDatabase(server.url, 'fleet');
    const dir = mkdtempSync(join(tmpdir(), 'ondevice-fleet-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'alerts.json'), JSON.stringify(alerts));

    const start = (name: string) =>
      spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
        env: {
          COLLECTOR_DATABASE_URL: url,
          COLLECTOR_INSTANCE_ID: name,
          COLLECTOR_DB_PATH: join(dir, `${name}-unused.sqlite`),
          COLLECTOR_ALERT_RULES: join(dir, 'alerts.json'),
          COLLECTOR_EVAL_THROTTLE_MS: '200',
          COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
          COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
        },
      });
    // One after the other: both migrate the same database; the first to start leads.
    const a: SpawnedServer = await start('a');
    cleanups.push(() => a.kill());
    const b: SpawnedServer = await start('b');
    cleanups.push(() => b.kill());
    expect(a.output()).toContain('instance a: leader');
    expect(b.output()).toContain('instance b: follower');

    const batches: TelemetryEvent[][] = Array.from({ length: EVENTS / BATCH }, (_, i) =>
      Array.from({ length: BATCH }, () => inferenceEvent({ modelId: 'fleet', installId: `install-${i % 50}`, id: randomUUID() })),
    );
    const sender = new FailoverSender([a.url, b.url], { downForMs: 1000 });
    cleanups.push(() => sender.close());
    const acknowledged: TelemetryEvent[][] = [];
    let retried = 0;
    let duplicatesReported = 0;
    let next = 0;
    const killAfter = Math.floor(batches.length / 3);
    let killing: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        while (next < batches.length) {
          const batch = batches[next++];
          const r = await sender.send(JSON.stringify({ siteKey: 'demo', events: batch }));
          acknowledged.push(batch);
          retried += r.retries;
          duplicatesReported += r.duplicates;
          // Mid-stream, with requests of the other streams in flight: the leader dies without warning.
          if (acknowledged.length === killAfter) killing = a.kill();
        }
      }),
    );
    await killing;
    expect(a.process.signalCode).toBe('SIGKILL');
    expect(acknowledged).toHaveLength(batches.length);
    // Some batches were in flight on the killed instance and had to go to the survivor.
    expect(retried).toBeGreaterThan(0);

    const db = new pg.Client({ connectionString: url });
    await db.connect();
    cleanups.push(() => db.end());
    const ids = acknowledged.flat().map((e) => e.id);
    const counts = await db.query<{ rows: string; distinct_ids: string; acked: string }>(
      `SELECT COUNT(*) AS rows, COUNT(DISTINCT id) AS distinct_ids, COUNT(*) FILTER (WHERE id = ANY($1)) AS acked FROM events`,
      [ids],
    );
    // Zero acknowledged events lost, zero duplicates (a retried batch that had committed is all duplicates).
    expect(counts.rows[0]).toEqual({ rows: String(EVENTS), distinct_ids: String(EVENTS), acked: String(EVENTS) });
    expect(duplicatesReported).toBeLessThanOrEqual(retried * BATCH);

    // The survivor leads within 10 s and does the leader's work: it judges a failing model's alert.
    await waitFor(
      () => `b to lead:\n${b.output()}`,
      () => b.output().includes('instance b: now the leader'),
      { timeoutMs: 10_000 },
    );
    const failing = [
      ...Array.from({ length: 40 }, () => inferenceEvent({ modelId: 'failing' })),
      ...Array.from({ length: 20 }, () => errorEvent({ modelId: 'failing' })),
    ];
    const r = await sender.send(JSON.stringify({ siteKey: 'demo', events: failing }));
    expect(r.url).toBe(b.url);
    const firing = await waitFor(
      'the survivor to fire the alert',
      async () => {
        const body = (await getJson(`${b.url}/v1/alerts`)).body as { firing: Array<{ rule: string; labels: Record<string, string> }> };
        return body.firing.length > 0 ? body.firing : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(firing).toHaveLength(1);
    expect(firing[0].rule).toBe('errors');
  });
});
