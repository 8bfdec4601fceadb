import { OnDeviceError } from '../core/OnDeviceError';
import type { Backend } from '../core/protocol';
import { ALL_BACKENDS } from '../core/RuntimeFiles';
import type { TelemetryConfig } from '../telemetry/TelemetryConfig';
import { configureTelemetry } from '../telemetry/telemetryClient';
import { validateTelemetryConfig } from '../telemetry/validateTelemetryConfig';
import { configureFederated } from './federated/configureFederated';

export interface OnDeviceConfig {
  /** Where the library's files live (worker, `ort/`, `models/`). Defaults to the library's own URL. */
  baseUrl: string;
  /** Registry used to resolve model ids. Default `${baseUrl}models/registry.json`. */
  registryUrl?: string;
  /** Default WASM thread count (only used when crossOriginIsolated). */
  threads?: number;
  /**
   * The backends whose runtime files the app serves (default both). `backend: 'auto'` tries only these, so a
   * WASM-only build never fetches the WebGPU files it did not emit; asking for a backend outside them is
   * BACKEND_UNAVAILABLE. The Vite plugin sets it from its own `backends` option.
   */
  backends?: Backend[];
  telemetry?: TelemetryConfig | false;
  /**
   * The ondevice server (what `npm start` runs). It is asked which model versions this install is assigned
   * (`GET /v1/manifest`; where it answers 404 — static hosting — ids resolve through `registryUrl`), and
   * `loadModel(…, { fallback: 'server' })` and `{ location: 'server' }` run on its inference API (`/v2`).
   * Default: the origin that serves the library (`new URL('/', baseUrl)`).
   */
  server?: string;
}

let current: OnDeviceConfig | undefined;

function defaultBaseUrl(): string {
  try {
    return new URL(/* @vite-ignore */ './', import.meta.url).href;
  } catch {
    return new URL('/', globalThis.location?.href ?? 'http://localhost/').href;
  }
}

/**
 * Set library-wide defaults. A telemetry config that can never work (an endpoint that is not a URL, a
 * sample rate outside 0..1, a malformed site key) or a `server` that is not an http(s) URL throws
 * INVALID_INPUT and changes nothing.
 *
 * @example
 * configure({ baseUrl: 'https://cdn.example.com/ondevice/', telemetry: { endpoint: '/v1/events' } })
 */
export function configure(next: Partial<OnDeviceConfig>): OnDeviceConfig {
  if (next.telemetry !== undefined && next.telemetry !== false) validateTelemetryConfig(next.telemetry);
  if (next.backends !== undefined) checkBackends(next.backends);
  const server = next.server !== undefined ? serverBaseUrl(next.server) : undefined;
  const base = getConfig();
  current = { ...base, ...next };
  if (next.baseUrl) current.baseUrl = new URL(next.baseUrl, globalThis.location?.href).href;
  if (server) current.server = server;
  configureTelemetry(current.telemetry);
  configureFederated(current.telemetry, serverUrl());
  return current;
}

export function getConfig(): OnDeviceConfig {
  current ??= { baseUrl: defaultBaseUrl() };
  return current;
}

/** The backends this app serves the runtime files of (`configure({ backends })`), by default every one. */
export function servedBackends(): readonly Backend[] {
  return getConfig().backends ?? ALL_BACKENDS;
}

function checkBackends(backends: unknown): void {
  if (!Array.isArray(backends) || backends.length === 0 || backends.some((b) => !ALL_BACKENDS.includes(b as Backend))) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `backends must name at least one of ${ALL_BACKENDS.join(', ')} (got ${JSON.stringify(backends)})`,
      {
        backends,
      },
    );
  }
}

/** The inference server's base URL, ending with `/` so `v2/…` resolves below any path prefix. */
export function serverUrl(): string {
  const config = getConfig();
  return config.server ?? new URL('/', config.baseUrl).href;
}

function serverBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value, globalThis.location?.href);
  } catch {
    throw new OnDeviceError('INVALID_INPUT', `server must be a URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OnDeviceError('INVALID_INPUT', `server must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  url.search = '';
  url.hash = '';
  return url.href;
}
