// Fleet ingest benchmark (part of `npm run bench -- ingest`): collector processes on one real PostgreSQL
// (durable settings: fsync, synchronous_commit on). In one run: raw batched inserts into the same schema
// (the id claim and the unnest insert the collector does, without HTTP, JSON or rollups), HTTP ingest
// through one instance, through two behind a failover client, and the kill -9 scenario at ≥ 1 M events.
// `npx tsx bench/fleetIngest.ts` prints a table and writes bench-results/ingest-fleet.json.
// Sizes: BENCH_FLEET_DURATION_MS (per throughput phase, default 10000), BENCH_FLEET_FAILOVER_EVENTS (default 1000000).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { eventRow } from '../src/collector/eventRow';
import { percentile } from '../src/collector/percentile';
import { DAY_MS, EventPartitions } from '../src/collector/postgres/eventPartitions';
import { migratePostgres } from '../src/db/postgresMigrations';
import { CLAIM_IDS_SQL, COLUMNS, INSERT_EVENTS_SQL } from '../src/collector/postgres/PostgresEventWriter';
import { FailoverSender } from '../test/helpers/failoverSender';
import { createDatabase, startPostgres } from '../test/helpers/postgres';
import { spawnServer, type SpawnedServer } from '../test/helpers/spawnServer';
import { makeBatch } from './ingest';

export interface FleetIngestBenchOptions {
  batchSize?: number;
  /** Concurrent batches in flight (client connections). */
  connections?: number;
  /** Length of each throughput phase. */
  durationMs?: number;
  /** Events sent in the kill -9 scenario. */
  failoverEvents?: number;
  outFile?: string;
}

interface Throughput {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  ackMs?: { p50: number; p99: number; max: number };
}

export interface FleetIngestBenchResult {
  batchSize: number;
  connections: number;
  raw: Throughput;
  oneInstance: Throughput;
  twoInstances: Throughput;
  ratios: { twoVsOne: number; oneVsRaw: number; twoVsRaw: number };
  failover: {
    events: number;
    seconds: number;
    eventsPerSecond: number;
    killedAtEvents: number;
    retriedBatches: number;
    /** Failed attempts by reason (a retry follows each). */
    failureReasons: Record<string, number>;
    /** From the kill to the survivor logging that it leads. */
    takeoverMs: number;
    ackMs: { p50: number; p99: number; max: number };
    stored: number;
    distinctIds: number;
    lost: number;
    duplicated: number;
    /** Events the collector refused as invalid (must be 0: the bench's events are valid). */
    rejected: number;
  };
  targets: { twoVsRawAtLeast: number; lost: number; duplicated: number; takeoverBelowMs: number };
  targetsMet: boolean;
  loadAverage: { before: number; after: number; cpus: number };
}

const TARGETS = { twoVsRawAtLeast: 0.25, lost: 0, duplicated: 0, takeoverBelowMs: 10_000 };
// The raw baseline inserts exactly as the collector's writer does (id claim + unnest insert), minus HTTP, JSON and rollups.

/** The database side alone: per batch one transaction with the id claim and one unnest insert, `connections` at once. */
async function benchRaw(url: string, o: Required<FleetIngestBenchOptions>): Promise<Throughput> {
  const pool = new pg.Pool({ connectionString: url, max: o.connections });
  try {
    await migratePostgres(pool);
    await new EventPartitions(pool).ensure(Date.now(), Date.now() + DAY_MS);
    let seq = 0;
    let events = 0;
    const t0 = performance.now();
    const deadline = t0 + o.durationMs;
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        const client = await pool.connect();
        try {
          while (performance.now() < deadline) {
            const meta = { siteKey: 'demo', receivedAtMs: Date.now() };
            const rows = makeBatch(o.batchSize, seq++).map((e) => eventRow(e, meta));
            await client.query('BEGIN');
            await client.query(CLAIM_IDS_SQL, [rows.map((r) => r.id), meta.receivedAtMs]);
            await client.query(
              INSERT_EVENTS_SQL,
              COLUMNS.map(([key]) => rows.map((r) => r[key])),
            );
            await client.query('COMMIT');
            events += rows.length;
          }
        } finally {
          client.release();
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { events, seconds, eventsPerSecond: events / seconds };
  } finally {
    await pool.end();
  }
}

function startInstance(url: string, name: string, dir: string): Promise<SpawnedServer> {
  return spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
    env: {
      COLLECTOR_DATABASE_URL: url,
      COLLECTOR_INSTANCE_ID: name,
      COLLECTOR_DB_PATH: join(dir, `${name}-unused.sqlite`),
      // No per-IP or per-install limits: one client stands for a whole load balancer.
      COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
      COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
    },
  });
}

function ackSummary(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN };
}

/** HTTP ingest through `instances` (a fresh database each), `connections` batches in flight. */
async function benchHttp(url: string, instances: number, dir: string, o: Required<FleetIngestBenchOptions>): Promise<Throughput> {
  const servers: SpawnedServer[] = [];
  for (let i = 0; i < instances; i++) servers.push(await startInstance(url, `bench-${i}`, dir));
  const sender = new FailoverSender(
    servers.map((s) => s.url),
    { maxSockets: o.connections },
  );
  try {
    let seq = 1_000_000;
    let events = 0;
    const latencies: number[] = [];
    const t0 = performance.now();
    const deadline = t0 + o.durationMs;
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        while (performance.now() < deadline) {
          const r = await sender.send(JSON.stringify({ siteKey: 'demo', events: makeBatch(o.batchSize, seq++) }));
          latencies.push(r.ackMs);
          events += r.stored;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { events, seconds, eventsPerSecond: events / seconds, ackMs: ackSummary(latencies) };
  } finally {
    sender.close();
    for (const s of servers) await s.stop();
  }
}

/** Two instances, `failoverEvents` events with ids known in advance, the leader killed with SIGKILL a third of the way. */
async function benchFailover(url: string, dir: string, o: Required<FleetIngestBenchOptions>): Promise<FleetIngestBenchResult['failover']> {
  const a = await startInstance(url, 'a', dir);
  const b = await startInstance(url, 'b', dir);
  const sender = new FailoverSender([a.url, b.url], { maxSockets: o.connections, downForMs: 1000 });
  const batches = Math.ceil(o.failoverEvents / o.batchSize);
  const killAt = Math.floor(batches / 3);
  let next = 0;
  let acked = 0;
  let retried = 0;
  let rejected = 0;
  const failureReasons: Record<string, number> = {};
  let killedAtMs = 0;
  let takeoverMs = Number.NaN;
  const latencies: number[] = [];
  let killing: Promise<void> | undefined;
  try {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.connections }, async () => {
        while (next < batches) {
          const seq = next++;
          const events = makeBatch(o.batchSize, seq).map((e, i) => ({ ...e, id: `failover-${seq}-${i}` }));
          const r = await sender.send(JSON.stringify({ siteKey: 'demo', events }));
          latencies.push(r.ackMs);
          retried += r.retries > 0 ? 1 : 0;
          for (const f of r.failures) failureReasons[f] = (failureReasons[f] ?? 0) + 1;
          rejected += events.length - r.stored - r.duplicates;
          if (++acked === killAt) {
            killedAtMs = performance.now();
            killing = a.kill();
            const watch = setInterval(() => {
              if (!b.output().includes('now the leader')) return;
              takeoverMs = performance.now() - killedAtMs;
              clearInterval(watch);
            }, 20);
            setTimeout(() => clearInterval(watch), 30_000).unref();
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    await killing;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const r = await client.query<{ stored: string; distinct_ids: string; expected: string }>(
        `SELECT COUNT(*) AS stored, COUNT(DISTINCT id) AS distinct_ids,
                COUNT(DISTINCT id) FILTER (WHERE id ~ '^failover-[0-9]+-[0-9]+$') AS expected FROM events`,
      );
      const stored = Number(r.rows[0].stored);
      const distinctIds = Number(r.rows[0].distinct_ids);
      const total = batches * o.batchSize;
      return {
        events: total,
        seconds,
        eventsPerSecond: total / seconds,
        killedAtEvents: killAt * o.batchSize,
        retriedBatches: retried,
        failureReasons,
        takeoverMs,
        ackMs: ackSummary(latencies),
        stored,
        distinctIds,
        lost: total - Number(r.rows[0].expected),
        duplicated: stored - distinctIds,
        rejected,
      };
    } finally {
      await client.end();
    }
  } finally {
    sender.close();
    await a.kill();
    await b.stop();
  }
}

export async function runFleetIngestBench(options: FleetIngestBenchOptions = {}): Promise<FleetIngestBenchResult> {
  const o: Required<FleetIngestBenchOptions> = {
    batchSize: 50,
    connections: 8,
    durationMs: Number(process.env.BENCH_FLEET_DURATION_MS ?? 10_000),
    failoverEvents: Number(process.env.BENCH_FLEET_FAILOVER_EVENTS ?? 1_000_000),
    outFile: 'bench-results/ingest-fleet.json',
    ...options,
  };
  const loadBefore = loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-bench-fleet-'));
  // Durable: an acknowledgement means the commit reached the disk, as in production.
  const server = await startPostgres({
    settings: { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on', shared_buffers: '256MB', max_wal_size: '2GB' },
  });
  try {
    // Raw halves before and after the HTTP phases, so a shared machine's changing load hits both sides.
    const half = { ...o, durationMs: o.durationMs / 2 };
    const rawBefore = await benchRaw(await createDatabase(server.url, 'raw_before'), half);
    const oneInstance = await benchHttp(await createDatabase(server.url, 'one'), 1, dir, o);
    const twoInstances = await benchHttp(await createDatabase(server.url, 'two'), 2, dir, o);
    const rawAfter = await benchRaw(await createDatabase(server.url, 'raw_after'), half);
    const rawEvents = rawBefore.events + rawAfter.events;
    const rawSeconds = rawBefore.seconds + rawAfter.seconds;
    const raw = { events: rawEvents, seconds: rawSeconds, eventsPerSecond: rawEvents / rawSeconds };
    const failover = await benchFailover(await createDatabase(server.url, 'failover'), dir, o);
    const ratios = {
      twoVsOne: twoInstances.eventsPerSecond / oneInstance.eventsPerSecond,
      oneVsRaw: oneInstance.eventsPerSecond / raw.eventsPerSecond,
      twoVsRaw: twoInstances.eventsPerSecond / raw.eventsPerSecond,
    };
    const result: FleetIngestBenchResult = {
      batchSize: o.batchSize,
      connections: o.connections,
      raw,
      oneInstance,
      twoInstances,
      ratios,
      failover,
      targets: TARGETS,
      targetsMet:
        ratios.twoVsRaw >= TARGETS.twoVsRawAtLeast &&
        failover.lost === 0 &&
        failover.duplicated === 0 &&
        failover.rejected === 0 &&
        failover.takeoverMs < TARGETS.takeoverBelowMs,
      loadAverage: { before: loadBefore, after: loadavg()[0], cpus: availableParallelism() },
    };
    printTable(result);
    mkdirSync(join(o.outFile, '..'), { recursive: true });
    writeFileSync(o.outFile, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(r: FleetIngestBenchResult): void {
  const f = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const ack = (t: Throughput) => (t.ackMs ? `ack p50 ${f(t.ackMs.p50, 1)} / p99 ${f(t.ackMs.p99, 1)} ms` : '');
  const fo = r.failover;
  const rows: Array<[string, string, string]> = [
    ['raw batched insert (PostgreSQL)', `${f(r.raw.eventsPerSecond)} events/s`, `${r.connections} connections`],
    ['HTTP, one instance', `${f(r.oneInstance.eventsPerSecond)} events/s`, ack(r.oneInstance)],
    ['HTTP, two instances', `${f(r.twoInstances.eventsPerSecond)} events/s`, ack(r.twoInstances)],
    ['two / one', `${f(r.ratios.twoVsOne * 100, 1)} %`, ''],
    ['one / raw', `${f(r.ratios.oneVsRaw * 100, 1)} %`, ''],
    [
      'two / raw',
      `${f(r.ratios.twoVsRaw * 100, 1)} %`,
      `target ≥ ${r.targets.twoVsRawAtLeast * 100} % ${mark(r.ratios.twoVsRaw >= r.targets.twoVsRawAtLeast)}`,
    ],
    ['kill -9 run', `${f(fo.events)} events`, `${f(fo.eventsPerSecond)} events/s, leader killed at ${f(fo.killedAtEvents)}`],
    [
      '  take-over',
      `${f(fo.takeoverMs)} ms`,
      `target < ${r.targets.takeoverBelowMs} ms ${mark(fo.takeoverMs < r.targets.takeoverBelowMs)}`,
    ],
    [
      '  ack p50 / p99 / max',
      `${f(fo.ackMs.p50, 1)} / ${f(fo.ackMs.p99, 1)} / ${f(fo.ackMs.max)} ms`,
      `${fo.retriedBatches} batches retried: ${JSON.stringify(fo.failureReasons)}`,
    ],
    [
      '  lost / duplicated / rejected',
      `${fo.lost} / ${fo.duplicated} / ${fo.rejected}`,
      mark(fo.lost === 0 && fo.duplicated === 0 && fo.rejected === 0),
    ],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const load = `load average ${f(r.loadAverage.before, 1)} → ${f(r.loadAverage.after, 1)} on ${r.loadAverage.cpus} CPUs`;
  console.log(`\nfleet ingest benchmark (PostgreSQL, batch ${r.batchSize}, ${load})`);
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log(`  ${r.targetsMet ? 'all targets met' : 'TARGETS MISSED'}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runFleetIngestBench();
  if (!result.targetsMet) process.exitCode = 1;
}
