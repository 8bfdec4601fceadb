import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer, type SpawnedServer } from '../helpers/spawnServer';
import type { RolloutConfig } from '../../src/releases/rolloutPolicy';

export interface StartedReleaseServer {
  server: SpawnedServer;
  url: string;
  dir: string;
  stop: () => Promise<void>;
  kill: () => Promise<void>;
  cleanup: () => void;
}

/**
 * Start the collector with the release control plane (`src/releases/main.ts`) as a real process on a free
 * port, its database in a temp folder (or `dir`, to restart on the same database).
 */
export async function startReleaseServer(
  options: { env?: Record<string, string | undefined>; dir?: string; rollout?: RolloutConfig } = {},
): Promise<StartedReleaseServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ondevice-releases-'));
  const env: Record<string, string | undefined> = {
    COLLECTOR_DB_PATH: join(dir, 'collector.sqlite'),
    COLLECTOR_RATE_LIMIT_PER_SECOND: '0',
    COLLECTOR_INSTALL_EVENTS_PER_MINUTE: '0',
    ...options.env,
  };
  if (options.rollout) {
    writeFileSync(join(dir, 'rollout.json'), JSON.stringify(options.rollout));
    env.ONDEVICE_ROLLOUT_CONFIG = join(dir, 'rollout.json');
  }
  const server = await spawnServer(process.execPath, ['--import', 'tsx', 'src/releases/main.ts'], { env });
  return {
    server,
    url: `http://127.0.0.1:${server.port}`,
    dir,
    stop: () => server.stop(),
    kill: () => server.kill(),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTP call with a bound; the body is parsed as JSON when it is JSON. */
export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body instanceof Uint8Array ? new Uint8Array(init.body) : init.body,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json');
  return { status: res.status, body: json ? JSON.parse(text) : text, headers: res.headers };
}

export function publish(base: string, modelId: string, version: string, bytes: Uint8Array, query = '') {
  return call(`${base}/v1/releases/${modelId}/${version}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: bytes,
  });
}

export function setPercent(base: string, modelId: string, version: string, percent: unknown) {
  return call(`${base}/v1/releases/${modelId}/${version}/rollout`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ percent }),
  });
}
