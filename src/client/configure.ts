import type { TelemetryConfig } from '../telemetry/TelemetryConfig';
import { configureTelemetry } from '../telemetry/telemetryClient';
import { validateTelemetryConfig } from '../telemetry/validateTelemetryConfig';

export interface OnDeviceConfig {
  /** Where the library's files live (worker, `ort/`, `models/`). Defaults to the library's own URL. */
  baseUrl: string;
  /** Registry used to resolve model ids. Default `${baseUrl}models/registry.json`. */
  registryUrl?: string;
  /**
   * The release server asked for this install's model versions (`GET /v1/manifest`). Default: the origin
   * that serves ondevice.js. Where it answers 404 (static hosting) ids resolve through `registryUrl`.
   */
  server?: string;
  /** Default WASM thread count (only used when crossOriginIsolated). */
  threads?: number;
  telemetry?: TelemetryConfig | false;
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
 * sample rate outside 0..1, a malformed site key) throws INVALID_INPUT and changes nothing.
 *
 * @example
 * configure({ baseUrl: 'https://cdn.example.com/ondevice/', telemetry: { endpoint: '/v1/events' } })
 */
export function configure(next: Partial<OnDeviceConfig>): OnDeviceConfig {
  if (next.telemetry !== undefined && next.telemetry !== false) validateTelemetryConfig(next.telemetry);
  const base = getConfig();
  current = { ...base, ...next };
  if (next.baseUrl) current.baseUrl = new URL(next.baseUrl, globalThis.location?.href).href;
  if (next.server) current.server = new URL(next.server, globalThis.location?.href).href;
  configureTelemetry(current.telemetry);
  return current;
}

export function getConfig(): OnDeviceConfig {
  current ??= { baseUrl: defaultBaseUrl() };
  return current;
}
