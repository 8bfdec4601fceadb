// Summary benchmark on PostgreSQL: `GET /v1/summary`'s queries (buildSummary) and the dashboard's
// (buildDashboardData) at 1 M and 10 M stored events, reading the per-minute rollups (what the collector
// does) against the same queries on raw events only (the baseline), measured in the same run on the same
// database. Rows are generated inside PostgreSQL (generate_series) and the rollups built from them with
// the grouping the ingest path maintains. `npx tsx bench/summary.ts [sizes…]` or `npm run bench -- summary`.
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { buildDashboardData } from '../src/collector/buildDashboardData';
import { buildSummary, MAX_SUMMARY_LATENCY_SAMPLES } from '../src/collector/buildSummary';
import type { EventQueries } from '../src/collector/EventQueries';
import { percentile } from '../src/collector/percentile';
import { latencyBucketSql } from '../src/collector/latencyBuckets';
import { openPostgresStorage } from '../src/collector/postgres/openPostgresStorage';
import { PostgresEventQueries } from '../src/collector/postgres/PostgresEventQueries';
import { DAY_MS } from '../src/collector/postgres/eventPartitions';
import { createDatabase, startPostgres } from '../test/helpers/postgres';

const HOUR_MS = 60 * 60 * 1000;
/** A fixed "now" (events span the 7 days before it) so runs are comparable. */
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const SPAN_MS = 7 * DAY_MS;

export interface SummaryBenchRow {
  events: number;
  windowMs: number;
  eventsInWindow: number;
  summaryMs: { rollups: number; raw: number; speedup: number };
  /** The summary as before percentiles moved into the database: the newest rows shipped to Node and sorted there. */
  summaryRowsToNodeMs: number;
  /** Each query of the summary alone (rollups), median: where the time goes. */
  queryMs: Record<string, number>;
  dashboardMs: { rollups: number; raw: number; speedup: number };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeMs(run: () => Promise<unknown>, repeats: number): Promise<number> {
  await run(); // warm the cache and the plan
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Events `from+1 … to` spread evenly over the 7 days before NOW, with the rollups they add. */
function generateSql(from: number, to: number): string[] {
  const at = `(${NOW} - 1 - ((g * 7919) % ${SPAN_MS}))`;
  const kind = `(g % 100)`;
  return [
    `INSERT INTO events (id, type, ts, at_ms, received_ms, site_key, install_id, session_id, model_id, model_version,
       backend, ms, bytes, from_cache, top_class, score, prediction_id, label, predicted, error_code, device_key, payload)
     SELECT 'bench-' || g,
       CASE WHEN ${kind} < 80 THEN 'inference' WHEN ${kind} < 88 THEN 'feedback' WHEN ${kind} < 94 THEN 'model_load'
            WHEN ${kind} < 97 THEN 'error' ELSE 'session' END,
       ${at}, ${at}, ${at}, 'demo', 'install-' || (g % 5000), 'session-' || (${at} / 600000) || '-' || (g % 20),
       'model-' || (g % 4), (1 + g % 2)::text,
       CASE WHEN ${kind} < 80 OR (${kind} >= 88 AND ${kind} < 94) THEN (CASE WHEN g % 3 = 0 THEN 'webgpu' ELSE 'wasm' END) END,
       CASE WHEN ${kind} < 80 OR (${kind} >= 88 AND ${kind} < 94) THEN 1 + (g % 997) * 0.37 END,
       CASE WHEN ${kind} >= 88 AND ${kind} < 94 THEN 1000000 END,
       CASE WHEN ${kind} >= 88 AND ${kind} < 94 THEN (g % 2)::smallint END,
       CASE WHEN ${kind} < 80 THEN (g % 10)::text END,
       CASE WHEN ${kind} < 80 THEN 0.9 END,
       CASE WHEN ${kind} < 80 THEN 'p-' || g WHEN ${kind} < 88 THEN 'p-' || (g - 10) END,
       CASE WHEN ${kind} >= 80 AND ${kind} < 88 THEN (g % 10)::text END,
       NULL,
       CASE WHEN ${kind} >= 94 AND ${kind} < 97 THEN 'INFERENCE_FAILED' END,
       CASE WHEN ${kind} >= 97 THEN (CASE WHEN g % 2 = 0 THEN 'nvidia / Chrome' ELSE 'no-webgpu / Firefox' END) END,
       '{}'
     FROM generate_series(${from + 1}::int8, ${to}::int8) g`,
    `INSERT INTO event_ids (id, received_ms) SELECT 'bench-' || g, ${at} FROM generate_series(${from + 1}::int8, ${to}::int8) g`,
  ];
}

/** Bulk generation runs without the secondary indexes (as a restore would); they are rebuilt after. */
const DROP_INDEXES_SQL = [
  'DROP INDEX events_type_at, events_inference_prediction, events_session, events_model_version_received, event_ids_received',
  'ALTER TABLE event_ids DROP CONSTRAINT event_ids_pkey',
];
const CREATE_INDEXES_SQL = [
  'CREATE INDEX events_type_at ON events (type, at_ms)',
  "CREATE INDEX events_inference_prediction ON events (prediction_id) WHERE type = 'inference'",
  "CREATE INDEX events_session ON events (session_id) WHERE type = 'session'",
  'CREATE INDEX events_model_version_received ON events (model_id, model_version, type, received_ms)',
  'ALTER TABLE event_ids ADD PRIMARY KEY (id)',
  'CREATE INDEX event_ids_received ON event_ids (received_ms)',
];

/** Rebuild the rollups from the raw events, grouped exactly as PostgresEventWriter maintains them. */
const ROLLUP_SQL = [
  'TRUNCATE rollup_counts, rollup_latency, rollup_predictions, rollup_session_minutes, session_devices',
  `INSERT INTO rollup_counts SELECT (at_ms / 60000) * 60000, type, model_id, model_version, backend, error_code, COUNT(*),
     COALESCE(SUM(ms), 0), COUNT(ms), COALESCE(SUM(from_cache), 0), COUNT(from_cache) FROM events GROUP BY 1, 2, 3, 4, 5, 6`,
  `INSERT INTO rollup_latency SELECT (at_ms / 60000) * 60000, model_id, model_version, backend, ${latencyBucketSql('ms')}, COUNT(*),
     COALESCE(SUM(ms), 0) FROM events WHERE type = 'inference' GROUP BY 1, 2, 3, 4, 5`,
  `INSERT INTO rollup_predictions SELECT (at_ms / 60000) * 60000, model_id, model_version, top_class, COUNT(*)
     FROM events WHERE type = 'inference' AND top_class IS NOT NULL GROUP BY 1, 2, 3, 4`,
  `INSERT INTO rollup_session_minutes SELECT DISTINCT (at_ms / 60000) * 60000, model_id, model_version, backend, session_id
     FROM events WHERE type = 'inference'`,
  "INSERT INTO session_devices SELECT session_id, device_key, MAX(received_ms) FROM events WHERE type = 'session' GROUP BY 1, 2",
  'ANALYZE',
];

/** `queries` with latencyPercentiles computed as before: latencySamples' rows shipped to Node and sorted there. */
function percentilesInNode(queries: PostgresEventQueries): EventQueries {
  return Object.assign(Object.create(queries) as PostgresEventQueries, {
    async latencyPercentiles(w: Parameters<EventQueries['latencySamples']>[0], maxRows: number, qs: readonly number[]) {
      const { truncated, groups } = await queries.latencySamples(w, maxRows);
      return {
        truncated,
        groups: groups.map(({ sortedMs, ...key }) => ({ ...key, count: sortedMs.length, values: qs.map((q) => percentile(sortedMs, q)) })),
      };
    },
  });
}

export async function runSummaryBench(
  sizes = [1_000_000, 10_000_000],
  windowsMs = [HOUR_MS, DAY_MS],
  repeats = 5,
): Promise<SummaryBenchRow[]> {
  const server = await startPostgres({
    settings: { shared_buffers: '512MB', work_mem: '64MB', maintenance_work_mem: '256MB', max_wal_size: '4GB', jit: 'off' },
  });
  const rows: SummaryBenchRow[] = [];
  try {
    const url = await createDatabase(server.url, 'summary_bench');
    const storage = await openPostgresStorage(url, { now: () => NOW, statementTimeoutMs: 0 });
    const pool = storage.pool;
    for (let day = NOW - SPAN_MS; day <= NOW + DAY_MS; day += DAY_MS) await storage.prune(day); // creates each day's partition
    const withRollups = new PostgresEventQueries(pool);
    const rawOnly = new PostgresEventQueries(pool, { useRollups: false });
    let stored = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      for (const sql of DROP_INDEXES_SQL) await pool.query(sql);
      for (let from = stored; from < size; from += 250_000) {
        for (const sql of generateSql(from, Math.min(size, from + 250_000))) await pool.query(sql);
      }
      stored = size;
      for (const sql of CREATE_INDEXES_SQL) await pool.query(sql);
      for (const sql of ROLLUP_SQL) await pool.query(sql);
      console.log(`summary bench: ${size.toLocaleString('en')} events generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      for (const windowMs of windowsMs) {
        const w = { sinceMs: NOW - windowMs, untilMs: NOW + 1 };
        const inWindow = (await withRollups.countInWindow(w)).reduce((s, c) => s + c.count, 0);
        const summaryRollups = await timeMs(() => buildSummary(withRollups, windowMs, NOW), repeats);
        const summaryRaw = await timeMs(() => buildSummary(rawOnly, windowMs, NOW), repeats);
        const summaryRowsToNode = await timeMs(() => buildSummary(percentilesInNode(withRollups), windowMs, NOW), repeats);
        const queryMs: Record<string, number> = {
          inferenceStats: await timeMs(() => withRollups.inferenceStats(w), repeats),
          latencyPercentiles: await timeMs(
            () => withRollups.latencyPercentiles(w, MAX_SUMMARY_LATENCY_SAMPLES, [0.5, 0.95, 0.99]),
            repeats,
          ),
          latencySamples: await timeMs(() => withRollups.latencySamples(w, MAX_SUMMARY_LATENCY_SAMPLES), repeats),
          loadStats: await timeMs(() => withRollups.loadStats(w), repeats),
          errorCounts: await timeMs(() => withRollups.errorCounts(w), repeats),
          accuracy: await timeMs(() => withRollups.accuracy(w), repeats),
          deviceMix: await timeMs(() => withRollups.deviceMix(w), repeats),
          countInWindow: await timeMs(() => withRollups.countInWindow(w), repeats),
        };
        const dashRollups = await timeMs(() => buildDashboardData(withRollups, storage.alerts, [], windowMs, NOW), repeats);
        const dashRaw = await timeMs(() => buildDashboardData(rawOnly, storage.alerts, [], windowMs, NOW), repeats);
        const row: SummaryBenchRow = {
          events: size,
          windowMs,
          eventsInWindow: inWindow,
          summaryMs: { rollups: summaryRollups, raw: summaryRaw, speedup: summaryRaw / summaryRollups },
          summaryRowsToNodeMs: summaryRowsToNode,
          queryMs,
          dashboardMs: { rollups: dashRollups, raw: dashRaw, speedup: dashRaw / dashRollups },
        };
        rows.push(row);
        console.log(
          `  window ${windowMs / HOUR_MS} h (${inWindow.toLocaleString('en')} events): summary ${summaryRollups.toFixed(0)} ms ` +
            `(raw ${summaryRaw.toFixed(0)} ms, ×${row.summaryMs.speedup.toFixed(1)}), dashboard ${dashRollups.toFixed(0)} ms ` +
            `(raw ${dashRaw.toFixed(0)} ms, ×${row.dashboardMs.speedup.toFixed(1)}); summary with percentiles in Node ` +
            `${summaryRowsToNode.toFixed(0)} ms (×${(summaryRowsToNode / summaryRollups).toFixed(1)})`,
        );
        console.log(
          `    queries: ${Object.entries(queryMs)
            .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
            .join(', ')}`,
        );
      }
    }
    await storage.close();
  } finally {
    await server.stop();
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/summary-latency.json', JSON.stringify({ loadAverage: loadavg()[0], rows }, null, 2));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  // npx tsx bench/summary.ts [events…] [--windows-h=1,24] [--repeats=5]
  const args = process.argv.slice(2);
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = args.map(Number).filter((n) => n > 0);
  const windows = flag('windows-h')
    ?.split(',')
    .map((h) => Number(h) * HOUR_MS);
  await runSummaryBench(sizes.length ? sizes : undefined, windows, flag('repeats') ? Number(flag('repeats')) : undefined);
}
