import type { ServerResponse } from 'node:http';
import type { AlertRule } from './alertRules';
import type { CollectorMetrics } from './CollectorMetrics';
import type { CollectorStorage } from './CollectorStorage';
import type { EventWriter } from './EventWriter';
import { handleIngest, type IngestContext } from './handleIngest';
import { HttpError } from '../http/HttpError';
import { parseWindow } from './parseWindow';
import type { ReadQueries } from './ReadQueries';
import type { Route } from '../http/Route';
import { sendJson } from '../http/sendJson';
import { DATASET_PATH_PREFIX, serveDataset } from './serveDataset';
import { sendAsset, type DashboardAssets } from './serveDashboard';
import { writeInSlices } from './writeInSlices';

export interface CollectorRouteContext {
  ingest: IngestContext;
  storage: CollectorStorage;
  queries: ReadQueries;
  metrics: CollectorMetrics;
  rules: readonly AlertRule[];
  dashboard: DashboardAssets;
  /** Which stored rows are model keys (the collector's budget); undefined for an injected storage. */
  isKey: ((modelId: string, version: string) => boolean) | undefined;
  /** The dashboard shows the Releases and Jobs sections when those are mounted beside the collector. */
  views: { releases: boolean; jobs: boolean };
  now: () => number;
}

const READ = ['GET', 'HEAD'] as const;

/** The collector's endpoints: ingest, health, the read side (summary, alerts, datasets, metrics) and the dashboard. */
export function collectorRoutes(c: CollectorRouteContext): Route[] {
  return [
    {
      path: '/v1/events',
      access: 'ingest',
      bodyTimeoutMs: c.ingest.bodyTimeoutMs,
      handle: (req, res, { url }) => handleIngest(c.ingest, req, res, url),
    },
    { path: '/v1/health', methods: READ, access: 'public', handle: (_req, res) => sendHealth(res, c.storage.writer) },
    // Library code and styles carry no data, and `<script src>` cannot send a bearer token.
    ...[...c.dashboard.publicAssets].map(([path, asset]): Route => ({
      path,
      methods: READ,
      access: 'public',
      handle: (_req, res) => sendAsset(res, asset.body, asset.type, 'public, max-age=300'),
    })),
    {
      path: '/v1/summary',
      methods: READ,
      access: 'read',
      handle: async (_req, res, { url }) => sendJson(res, 200, await c.queries.summary(parseWindow(url), c.now())),
    },
    {
      path: '/v1/alerts',
      methods: READ,
      access: 'read',
      handle: async (_req, res, { url }) => {
        const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit')) || 100));
        // From the store, not the monitor: every instance answers what the leader recorded.
        const [firing, history] = await Promise.all([c.storage.alerts.firingAlerts(), c.storage.alerts.listAlerts(limit)]);
        sendJson(res, 200, { firing, history });
      },
    },
    {
      path: DATASET_PATH_PREFIX,
      prefix: true,
      methods: READ,
      access: 'read',
      handle: (req, res, { url }) => serveDataset(c.storage.samples, res, url, req.method ?? 'GET'),
    },
    {
      path: '/metrics',
      methods: READ,
      access: 'read',
      handle: async (_req, res) => {
        if (c.metrics.shared) await c.metrics.loadModelSeries(c.storage.queries, c.isKey);
        const parts = c.metrics.renderParts(await c.storage.alerts.firingAlerts(), c.rules);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
        await writeInSlices(res, parts);
      },
    },
    ...['/dashboard', '/dashboard/'].map((path): Route => ({
      path,
      methods: READ,
      access: 'read',
      queryToken: true,
      handle: (_req, res) => sendAsset(res, c.dashboard.page, 'text/html; charset=utf-8', 'no-store'),
    })),
    {
      path: '/dashboard/data.json',
      methods: READ,
      access: 'read',
      handle: async (_req, res, { url }) => {
        const data = await c.queries.dashboard(c.rules, parseWindow(url), c.now());
        sendJson(res, 200, { ...data, releaseView: c.views.releases, jobsView: c.views.jobs });
      },
    },
  ];
}

/** The collector owns `/v1/*` and `/dashboard/*` (an unknown path there is its 404) and its exact routes. */
export function collectorOwns(routes: readonly Route[]): (pathname: string) => boolean {
  const exact = new Set(routes.map((r) => r.path));
  return (pathname) => exact.has(pathname) || pathname.startsWith('/v1/') || pathname.startsWith('/dashboard/');
}

/** 200 while events can be stored, else 503 with the reason (load balancers and probes act on the status). */
async function sendHealth(res: ServerResponse, writer: EventWriter): Promise<void> {
  try {
    await writer.checkWritable();
  } catch (e) {
    throw new HttpError(503, 'STORAGE_UNAVAILABLE', `storage not writable: ${(e as Error).message}`, {
      headers: { 'retry-after': '5' },
      details: { ok: false },
    });
  }
  sendJson(res, 200, { ok: true, storage: 'writable' });
}
