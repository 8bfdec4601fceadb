import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRule } from '../../../src/collector/alertRules';
import type { Collector } from '../../../src/collector/Collector';
import { createCollector } from '../../../src/collector/createCollector';
import type { LeaderLease } from '../../../src/db/LeaderLease';
import { openPostgresLeaderLease } from '../../../src/db/openPostgresLeaderLease';
import { openSqliteStorage, type SqliteStorage } from '../../../src/collector/openSqliteStorage';
import { createDatabase, startPostgres } from '../../helpers/postgres';
import { errorEvent, inferenceEvent } from '../makeEvents';
import { getJson, postEvents } from '../startCollector';
import { waitFor } from '../../helpers/waitFor';

const rules: AlertRule[] = [{ name: 'errors', metric: 'error_rate', op: '>', threshold: 0.02, windowMs: 10 * 60_000, minSamples: 50 }];

/**
 * Two collector instances on one database file and one leader lease on a real PostgreSQL: only the
 * leader judges alerts, both answer the same, and the survivor carries on from the leader's alerts.
 */
describe('work that must happen once runs on the leader', () => {
  let pgServer: Awaited<ReturnType<typeof startPostgres>>;
  let dir: string;
  const instances: Array<{ collector: Collector; storage: SqliteStorage; lease: LeaderLease; server: Server; url: string }> = [];

  beforeAll(async () => {
    pgServer = await startPostgres();
    const leaseDb = await createDatabase(pgServer.url, 'leader_work');
    dir = mkdtempSync(join(tmpdir(), 'ondevice-leader-work-'));
    for (const name of ['a', 'b']) {
      const storage = openSqliteStorage(join(dir, 'collector.sqlite'));
      const lease = await openPostgresLeaderLease({
        url: leaseDb,
        instanceId: name,
        retryIntervalMs: 500,
        sessionTimeoutMs: 3000,
        log: () => {},
      });
      const collector = await createCollector({
        storage,
        leader: lease,
        databaseUrl: leaseDb,
        instanceId: name,
        alertConfig: { evaluationIntervalMs: 3_600_000, rules },
        evaluationThrottleMs: 3_600_000,
        registryPath: join(dir, 'no-registry.json'),
        log: () => {},
      });
      const server = createServer((req, res) => {
        void collector.handle(req, res).then((handled) => handled || res.writeHead(404).end());
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      instances.push({ collector, storage, lease, server, url: `http://127.0.0.1:${port}` });
    }
  });
  afterAll(async () => {
    for (const i of instances) {
      await new Promise((resolve) => i.server.close(resolve));
      await i.collector.close();
      await i.lease.close();
      await i.storage.close();
    }
    await pgServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the leader alone opens an alert; both instances report it; the survivor resolves it without opening it again', async () => {
    const [a, b] = instances;
    expect([a.lease.isLeader(), b.lease.isLeader()]).toEqual([true, false]);

    // Through the follower: what it stores, the leader judges.
    const failing = [...Array.from({ length: 60 }, () => inferenceEvent()), ...Array.from({ length: 20 }, () => errorEvent())];
    await b.collector.writer.insertBatch(failing, { siteKey: 'demo', receivedAtMs: Date.now() });
    expect(await b.collector.evaluateAlerts()).toEqual([]);
    const fired = await a.collector.evaluateAlerts();
    expect(fired.map((t) => t.status)).toEqual(['firing']);

    const alertsA = await getJson(`${a.url}/v1/alerts`);
    const alertsB = await getJson(`${b.url}/v1/alerts`);
    expect(alertsB.body).toEqual(alertsA.body);
    expect(alertsA.body.firing).toHaveLength(1);
    // /metrics: the model series and the firing gauge come from the shared database, the process series are labelled.
    const metricsA = (await getJson(`${a.url}/metrics`)).body as string;
    const metricsB = (await getJson(`${b.url}/metrics`)).body as string;
    const modelSeries = (text: string) => text.split('\n').filter((l) => /^ondevice_(events_total|errors_total|alerts_firing)/.test(l));
    expect(modelSeries(metricsB)).toEqual(modelSeries(metricsA));
    expect(metricsA).toMatch(/^ondevice_events_total\{type="error"\} 20$/m);
    expect(metricsA).toMatch(/^ondevice_alerts_firing\{rule="errors"\} 1$/m);
    expect(metricsB).not.toContain('instance="a"');

    // The leader goes away; the survivor takes over within 10 s and carries on from the stored alert.
    await a.lease.close();
    await waitFor('b to lead', async () => b.lease.isLeader(), { timeoutMs: 10_000 });
    expect(await b.collector.evaluateAlerts()).toEqual([]); // still firing: not opened a second time
    const recovered = Array.from({ length: 2000 }, () => inferenceEvent());
    await b.collector.writer.insertBatch(recovered, { siteKey: 'demo', receivedAtMs: Date.now() });
    const resolved = await b.collector.evaluateAlerts();
    expect(resolved.map((t) => [t.status, t.alert.id])).toEqual([['resolved', fired[0].alert.id]]);
    const history = (await getJson(`${b.url}/v1/alerts`)).body.history;
    expect(history).toHaveLength(1);
    // The former leader evaluates nothing any more.
    await a.collector.writer.insertBatch(
      failing.map((e) => ({ ...e, id: `${e.id}-again` })),
      { siteKey: 'demo', receivedAtMs: Date.now() },
    );
    expect(await a.collector.evaluateAlerts()).toEqual([]);
  });

  it('labels the series this process counts with its instance', async () => {
    const posted = await postEvents(instances[1].url, { siteKey: 'demo', events: [inferenceEvent()] });
    expect(posted.status).toBe(200);
    const metrics = (await getJson(`${instances[1].url}/metrics`)).body as string;
    expect(metrics).toMatch(/^ondevice_ingest_requests_total\{status="200",code="OK",instance="b"\} \d+$/m);
  });
});
