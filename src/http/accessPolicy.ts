import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostAllowed, LOOPBACK_HOST_NAMES } from './hostAllowed';
import { HttpError } from './HttpError';
import { isLoopbackHost } from './isLoopbackHost';

/** Who may read and who may write, for every server mounted on one listener (collector, releases, jobs). */
export interface AccessPolicy {
  /** True when the server listens on loopback only. */
  loopback: boolean;
  /** The read side (summaries, metrics, release status, jobs): open on loopback unless a token is required. */
  read: { required: boolean; token: string | undefined };
  /** ONDEVICE_ADMIN_TOKEN: writes (publish, rollout, jobs) need it when set, and off loopback. */
  adminToken: string | undefined;
  /** Host names a token-less loopback server answers to (DNS rebinding). */
  openHosts: ReadonlySet<string>;
}

export interface AccessOptions {
  /** The host the server listens on; default loopback. A non-loopback host makes the read token required. */
  listenHost?: string;
  readToken?: string;
  /** Require the read token even on loopback. Default: required iff `listenHost` is not loopback. */
  requireReadToken?: boolean;
  adminToken?: string;
  /** Host names (e.g. `collector.internal`) answered besides 127.0.0.1, localhost and [::1]. */
  allowedHosts?: string[];
}

/** The policy of a server listening on `listenHost` with these tokens. */
export function accessPolicy(options: AccessOptions): AccessPolicy {
  const loopback = options.listenHost === undefined || isLoopbackHost(options.listenHost);
  return {
    loopback,
    read: { required: options.requireReadToken ?? !loopback, token: options.readToken || undefined },
    adminToken: options.adminToken || undefined,
    openHosts: new Set([...LOOPBACK_HOST_NAMES, ...(options.allowedHosts ?? []).map((h) => h.trim().toLowerCase())]),
  };
}

/**
 * Whether the request carries `token`: `Authorization: Bearer <token>`, or `?token=` in `queryTokenUrl`
 * (only the dashboard page, which a person opens from a link). Constant time.
 */
export function hasBearerToken(req: IncomingMessage, token: string | undefined, queryTokenUrl?: URL): boolean {
  if (!token) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  const offered = match?.[1] ?? queryTokenUrl?.searchParams.get('token') ?? null;
  return offered !== null && sameSecret(offered, token);
}

/**
 * A read may proceed, or this throws: 403 `HOST_NOT_ALLOWED` for a foreign Host on a token-less server,
 * 401 `UNAUTHORIZED` without the token.
 */
export function checkReadAccess(req: IncomingMessage, policy: AccessPolicy, queryTokenUrl?: URL): void {
  if (!policy.read.required) {
    if (!hostAllowed(req, policy.openHosts)) throw hostNotAllowed(req);
    return;
  }
  if (!hasBearerToken(req, policy.read.token, queryTokenUrl)) {
    throw new HttpError(401, 'UNAUTHORIZED', 'read token required', {
      headers: { 'www-authenticate': 'Bearer realm="ondevice-collector"' },
    });
  }
}

// The content types a page may send cross-origin without a preflight (the Fetch standard's CORS-safelisted
// request-header values): a form or a `no-cors` fetch can send these, so the write side never accepts them.
const SIMPLE_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * A write (publish, rollout, promote, rollback, a job) may proceed, or this throws. Any request a browser
 * made (an Origin header or Sec-Fetch-Site) is refused even on loopback, so no web page can write through
 * a developer's local server; so is a body of another type than `bodyType` (a simple one above all). Off
 * loopback the admin token is required; on loopback without one, only loopback Host names are answered.
 * The CLI sends neither browser header.
 */
export function checkWriteAccess(req: IncomingMessage, policy: AccessPolicy, bodyType: string): void {
  // Not Sec-Fetch-Mode: Node's fetch (undici, which the CLI uses) sends `sec-fetch-mode: cors` too.
  if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
    throw new HttpError(403, 'BROWSER_REQUEST_REFUSED', 'release writes are refused from browsers (Origin header present)');
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (SIMPLE_TYPES.includes(type) || type !== bodyType) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `expected Content-Type: ${bodyType}`);
  }
  if (policy.adminToken !== undefined) {
    if (hasBearerToken(req, policy.adminToken)) return;
    throw new HttpError(401, 'UNAUTHORIZED', 'admin token required (ONDEVICE_ADMIN_TOKEN)', {
      headers: { 'www-authenticate': 'Bearer realm="ondevice-releases"' },
    });
  }
  if (!policy.loopback) throw new HttpError(403, 'ADMIN_TOKEN_REQUIRED', 'set ONDEVICE_ADMIN_TOKEN to publish on a non-loopback server');
  if (!hostAllowed(req, policy.openHosts)) throw hostNotAllowed(req);
}

function hostNotAllowed(req: IncomingMessage): HttpError {
  return new HttpError(403, 'HOST_NOT_ALLOWED', `host ${JSON.stringify(req.headers.host ?? '')} not allowed`);
}

/** Constant-time comparison; hashing first makes the inputs equal length so length does not leak. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
