import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { ServerResponse } from 'node:http';

export interface DashboardAssets {
  /** Paths under /dashboard/ that need no token: library code and styles, no data. */
  publicAssets: Map<string, { body: Buffer; type: string }>;
  page: Buffer;
}

const require = createRequire(import.meta.url);

/** Load the dashboard page and its assets (uPlot from node_modules) once, at startup. */
export async function loadDashboardAssets(): Promise<DashboardAssets> {
  const here = (name: string) => new URL(`./dashboard/${name}`, import.meta.url);
  const [page, script, style, uplotJs, uplotCss] = await Promise.all([
    readFile(here('index.html')),
    readFile(here('dashboard.js')),
    readFile(here('dashboard.css')),
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js')),
    readFile(require.resolve('uplot/dist/uPlot.min.css')),
  ]);
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return {
    page,
    publicAssets: new Map([
      ['/dashboard/dashboard.js', { body: script, type: js }],
      ['/dashboard/dashboard.css', { body: style, type: css }],
      ['/dashboard/uPlot.iife.min.js', { body: uplotJs, type: js }],
      ['/dashboard/uPlot.min.css', { body: uplotCss, type: css }],
    ]),
  };
}

/**
 * Script only from us; uPlot sizes its elements with inline styles, hence 'unsafe-inline' for styles.
 * no-referrer keeps a `?token=` in the page URL from leaking anywhere.
 */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

export function sendAsset(res: ServerResponse, body: Buffer, type: string, cacheControl: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': cacheControl, ...PAGE_HEADERS });
  res.end(body);
}
