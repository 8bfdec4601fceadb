import type { Server, ServerOptions } from 'node:http';

/**
 * Timeouts of the HTTP servers (`npm start` and `npm run collector`), set deliberately instead of
 * Node's defaults: with those an idle or trickling connection lived ~26–87 s, because Node checks
 * headersTimeout/requestTimeout only every `connectionsCheckingInterval` (30 s by default).
 */
export interface ServerTimeouts {
  /** Request line and headers must arrive within this (slowloris). Default 10 s. */
  headersTimeoutMs: number;
  /**
   * Backstop for a whole request, body included. Route bodies have their own, shorter deadlines
   * (ingest 10 s); this is raised to cover the longest route deadline. Default 60 s.
   */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way (a reader that stopped reading) is closed after this. Default 60 s. */
  idleTimeoutMs: number;
  /** How often Node checks the headers/request deadlines; bounds how late they fire. Default 1 s. */
  checkIntervalMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  checkIntervalMs: 1_000,
};

/**
 * Server timeouts from HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, HTTP_KEEP_ALIVE_TIMEOUT_MS and
 * HTTP_IDLE_TIMEOUT_MS (milliseconds, positive integers).
 */
export function serverTimeoutsFromEnv(env: NodeJS.ProcessEnv): ServerTimeouts {
  const ms = (name: string, fallback: number): number => {
    const v = env[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (milliseconds), got "${v}"`);
    return n;
  };
  const d = DEFAULT_SERVER_TIMEOUTS;
  const t = {
    headersTimeoutMs: ms('HTTP_HEADERS_TIMEOUT_MS', d.headersTimeoutMs),
    requestTimeoutMs: ms('HTTP_REQUEST_TIMEOUT_MS', d.requestTimeoutMs),
    keepAliveTimeoutMs: ms('HTTP_KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs),
    idleTimeoutMs: ms('HTTP_IDLE_TIMEOUT_MS', d.idleTimeoutMs),
  };
  return { ...t, checkIntervalMs: Math.min(d.checkIntervalMs, t.headersTimeoutMs, t.keepAliveTimeoutMs) };
}

/** Options for `http.createServer` (the check interval can only be set there). */
export function serverOptions(t: ServerTimeouts): ServerOptions {
  return {
    connectionsCheckingInterval: t.checkIntervalMs,
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
  };
}

/**
 * Apply the timeouts to a created server. `longestBodyMs` is the longest per-route body deadline; the
 * whole-request backstop never cuts a route off before its own deadline does.
 */
export function applyServerTimeouts(server: Server, t: ServerTimeouts, longestBodyMs = 0): void {
  // Node requires headersTimeout ≤ requestTimeout.
  server.requestTimeout = Math.max(t.requestTimeoutMs, t.headersTimeoutMs, longestBodyMs + t.headersTimeoutMs);
  server.headersTimeout = t.headersTimeoutMs;
  server.keepAliveTimeout = t.keepAliveTimeoutMs;
  server.setTimeout(t.idleTimeoutMs, (socket) => socket.destroy());
}
