import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import type { AlertConfig } from '../../src/collector/alertRules';

export interface StartedCollector {
  server: SpawnedServer;
  /** Always a 127.0.0.1 URL, whatever address the collector bound. */
  url: string;
  dir: string;
  dbPath: string;
  stop: () => Promise<void>;
  kill: () => Promise<void>;
  /** Remove the temp folder (after stop). */
  cleanup: () => void;
}

export interface StartCollectorOptions {
  env?: Record<string, string | undefined>;
  /** Reuse a folder (and its database) from an earlier start. */
  dir?: string;
  alerts?: AlertConfig;
}

/**
 * Start `src/collector/main.ts` as a real process (node --import tsx, so a SIGKILL hits the collector
 * itself, not an npx wrapper) on a free port with a database in a temp folder.
 */
export async function startCollector(options: StartCollectorOptions = {}): Promise<StartedCollector> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ondevice-collector-'));
  const dbPath = join(dir, 'collector.sqlite');
  const env: Record<string, string | undefined> = {
    COLLECTOR_DB_PATH: dbPath,
    COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
    COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
    ...options.env,
  };
  if (options.alerts) {
    const rulesPath = join(dir, 'alerts.json');
    writeFileSync(rulesPath, JSON.stringify(options.alerts));
    env.COLLECTOR_ALERT_RULES = rulesPath;
  }
  const server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/collector/main.ts'], { env });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    server,
    url,
    dir,
    dbPath,
    stop: () => server.stop(),
    kill: () => server.kill(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface PostResult {
  status: number;
  body: any;
  headers: Headers;
}

/** POST a batch (object → JSON text; string/Uint8Array sent as is). */
export async function postEvents(
  url: string,
  body: unknown,
  options: { contentType?: string; query?: string; headers?: Record<string, string> } = {},
): Promise<PostResult> {
  const payload = typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body);
  const res = await fetch(`${url}/v1/events${options.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': options.contentType ?? 'application/json', ...options.headers },
    body: payload,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the assertion message
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}
