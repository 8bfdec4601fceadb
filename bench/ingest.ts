// Ingest benchmark: HTTP ingest into a real collector process on loopback, beside the raw
// better-sqlite3 batched-insert rate on the same schema and batch size, measured in the same run.
// `npx tsx bench/ingest.ts` prints a table and writes bench-results/ingest.json.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { migrateSqlite } from '../src/db/sqliteMigrations';
import { eventRow, INSERT_EVENT_SQL, type EventRow } from '../src/collector/eventRow';
import { percentile } from '../src/collector/percentile';
import type { TelemetryEvent } from '../src/core/eventSchema';
import { spawnServer } from '../test/helpers/spawnServer';

export interface IngestBenchOptions {
  batchSize?: number;
  /** Concurrent keep-alive connections posting batches. */
  connections?: number;
  /** Upper bound on each measured phase. */
  durationMs?: number;
  /** Upper bound on batches per phase. */
  maxBatches?: number;
  warmupBatches?: number;
  outFile?: string;
}

export interface IngestBenchResult {
  batchSize: number;
  connections: number;
  raw: { batches: number; events: number; seconds: number; eventsPerSecond: number };
  http: {
    batches: number;
    events: number;
    seconds: number;
    eventsPerSecond: number;
    ackMs: { p50: number; p95: number; p99: number; max: number };
    errors: number;
    storedVerified: number;
  };
  ratio: number;
  targets: { ratioAtLeast: number; p99BelowMs: number; errors: number };
  targetsMet: boolean;
  /** 1-minute load average before and after: the machine is shared, so read the figures beside it. */
  loadAverage: { before: number; after: number; cpus: number };
}

const TARGETS = { ratioAtLeast: 0.25, p99BelowMs: 50, errors: 0 };

/** A realistic batch: mostly inferences, with the occasional load, feedback and error. */
export function makeBatch(size: number, seq: number): TelemetryEvent[] {
  const now = Date.now();
  const common = (i: number) => ({
    id: randomUUID(),
    ts: now,
    installId: `install-${seq % 97}`,
    sessionId: `session-${seq % 389}`,
    modelId: 'mobilenet-v2',
    modelVersion: `${1 + (i % 2)}`,
  });
  return Array.from({ length: size }, (_, i): TelemetryEvent => {
    if (i === 0) return { ...common(i), type: 'model_load', backend: 'webgpu', bytes: 14_000_000, fromCache: true, ms: 180 };
    if (i % 10 === 9) return { ...common(i), type: 'feedback', predictionId: `p-${seq}-${i - 1}`, label: i % 7 };
    if (i === 25) return { ...common(i), type: 'error', code: 'INFERENCE_FAILED', message: 'kernel failed' };
    return {
      ...common(i),
      type: 'inference',
      backend: i % 3 === 0 ? 'wasm' : 'webgpu',
      ms: 3 + ((seq * 31 + i * 7) % 40),
      inputDims: { input: [1, 3, 224, 224] },
      output: { topClass: (seq + i) % 7, score: 0.8, predictionId: `p-${seq}-${i}` },
    };
  });
}

/**
 * Raw better-sqlite3: the collector's INSERT on the same schema and pragmas, one transaction per batch,
 * rows mapped beforehand. Checkpoints are off here as they are on the collector's ingest thread (its
 * query worker runs them), so this is the best case for the inserting thread alone.
 */
function benchRawInsert(dbPath: string, o: Required<IngestBenchOptions>): IngestBenchResult['raw'] {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('wal_autocheckpoint = 0');
  migrateSqlite(db);
  const insert = db.prepare<[EventRow]>(INSERT_EVENT_SQL);
  const insertBatch = db.transaction((rows: EventRow[]) => {
    for (const row of rows) insert.run(row);
  });
  const meta = { siteKey: 'demo', receivedAtMs: Date.now() };
  const batches = Array.from({ length: o.maxBatches + o.warmupBatches }, (_, b) => makeBatch(o.batchSize, b).map((e) => eventRow(e, meta)));
  for (let b = 0; b < o.warmupBatches; b++) insertBatch(batches[b]);
  const t0 = performance.now();
  let done = 0;
  for (let b = o.warmupBatches; b < batches.length && performance.now() - t0 < o.durationMs; b++, done++) insertBatch(batches[b]);
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return { batches: done, events: done * o.batchSize, seconds, eventsPerSecond: (done * o.batchSize) / seconds };
}

function post(agent: Agent, port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/events',
        headers: { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

async function benchHttpIngest(dir: string, o: Required<IngestBenchOptions>): Promise<IngestBenchResult['http']> {
  const dbPath = join(dir, 'collector.sqlite');
  const server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], {
    // No per-IP or per-install limits: the bench measures the ingest path, from one client and install.
    env: { COLLECTOR_DB_PATH: dbPath, COLLECTOR_RATE_LIMIT_PER_SECOND: '0', COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0' },
  });
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  try {
    // Bodies are serialized up front so the client's JSON work is not billed to the collector.
    const bodies = Array.from({ length: o.maxBatches + o.warmupBatches }, (_, b) =>
      JSON.stringify({ siteKey: 'demo', events: makeBatch(o.batchSize, 1_000_000 + b) }),
    );
    let next = 0;
    let errors = 0;
    const latencies: number[] = [];
    let acked = 0;
    const worker = async (until: number, measured: boolean, deadlineMs: number) => {
      while (next < until && performance.now() < deadlineMs) {
        const body = bodies[next++];
        const t0 = performance.now();
        try {
          const r = await post(agent, server.port, body);
          const ms = performance.now() - t0;
          if (r.status !== 200) errors++;
          else if (measured) {
            latencies.push(ms);
            acked += JSON.parse(r.text).stored;
          }
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: o.connections }, () => worker(o.warmupBatches, false, Number.POSITIVE_INFINITY)));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: o.connections }, () => worker(bodies.length, true, t0 + o.durationMs)));
    const seconds = (performance.now() - t0) / 1000;

    const db = new Database(dbPath, { readonly: true });
    const storedVerified = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n - o.warmupBatches * o.batchSize;
    db.close();
    const sorted = Float64Array.from(latencies).sort();
    return {
      batches: latencies.length,
      events: acked,
      seconds,
      eventsPerSecond: acked / seconds,
      ackMs: {
        p50: percentile(sorted, 0.5),
        p95: percentile(sorted, 0.95),
        p99: percentile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? NaN,
      },
      errors,
      storedVerified,
    };
  } finally {
    agent.destroy();
    await server.stop();
  }
}

/** Run both phases and write the JSON report. */
export async function runIngestBench(options: IngestBenchOptions = {}): Promise<IngestBenchResult> {
  const o: Required<IngestBenchOptions> = {
    batchSize: 50,
    connections: 4,
    durationMs: 5000,
    maxBatches: 3000,
    warmupBatches: 50,
    outFile: 'bench-results/ingest.json',
    ...options,
  };
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-bench-'));
  const loadBefore = loadavg()[0];
  try {
    // Raw runs half before and half after the HTTP phase so a shared machine's changing load hits
    // both sides of the ratio alike.
    const half = { ...o, durationMs: o.durationMs / 2, maxBatches: Math.ceil(o.maxBatches / 2) };
    const rawBefore = benchRawInsert(join(dir, 'raw-before.sqlite'), half);
    const http = await benchHttpIngest(dir, o);
    const rawAfter = benchRawInsert(join(dir, 'raw-after.sqlite'), half);
    const rawEvents = rawBefore.events + rawAfter.events;
    const rawSeconds = rawBefore.seconds + rawAfter.seconds;
    const raw = {
      batches: rawBefore.batches + rawAfter.batches,
      events: rawEvents,
      seconds: rawSeconds,
      eventsPerSecond: rawEvents / rawSeconds,
    };
    const ratio = http.eventsPerSecond / raw.eventsPerSecond;
    const result: IngestBenchResult = {
      batchSize: o.batchSize,
      connections: o.connections,
      raw,
      http,
      ratio,
      targets: TARGETS,
      targetsMet:
        ratio >= TARGETS.ratioAtLeast &&
        http.ackMs.p99 < TARGETS.p99BelowMs &&
        http.errors === TARGETS.errors &&
        http.storedVerified === http.events,
      loadAverage: { before: loadBefore, after: loadavg()[0], cpus: availableParallelism() },
    };
    printTable(result);
    mkdirSync(join(o.outFile, '..'), { recursive: true });
    writeFileSync(o.outFile, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(r: IngestBenchResult): void {
  const f = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
  const rows: Array<[string, string, string]> = [
    ['raw better-sqlite3 insert', `${f(r.raw.eventsPerSecond)} events/s`, `${r.raw.batches} batches of ${r.batchSize}`],
    ['HTTP ingest (loopback)', `${f(r.http.eventsPerSecond)} events/s`, `${r.http.batches} batches, ${r.connections} connections`],
    ['HTTP / raw', `${f(r.ratio * 100, 1)} %`, `target ≥ ${r.targets.ratioAtLeast * 100} % ${mark(r.ratio >= r.targets.ratioAtLeast)}`],
    ['ack latency p50 / p95', `${f(r.http.ackMs.p50, 2)} / ${f(r.http.ackMs.p95, 2)} ms`, ''],
    [
      'ack latency p99',
      `${f(r.http.ackMs.p99, 2)} ms`,
      `target < ${r.targets.p99BelowMs} ms ${mark(r.http.ackMs.p99 < r.targets.p99BelowMs)}`,
    ],
    ['errors', String(r.http.errors), `target 0 ${mark(r.http.errors === 0)}`],
    ['stored (verified in db)', `${r.http.storedVerified} / ${r.http.events}`, mark(r.http.storedVerified === r.http.events)],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const load = `load average ${f(r.loadAverage.before, 1)} → ${f(r.loadAverage.after, 1)} on ${r.loadAverage.cpus} CPUs`;
  console.log(`\ningest benchmark (batch ${r.batchSize}, ${load})`);
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log(`  ${r.targetsMet ? 'all targets met' : 'TARGETS MISSED'}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runIngestBench();
  if (!result.targetsMet) process.exitCode = 1;
}
