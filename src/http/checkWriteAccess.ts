import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasReadAccess } from './readAccess';
import { hostAllowed } from './hostAllowed';
import { sendJson } from './sendJson';

export interface WriteAccessPolicy {
  /** ONDEVICE_ADMIN_TOKEN; required when the server listens off loopback. */
  adminToken: string | undefined;
  /** True when the server listens on loopback only. */
  loopback: boolean;
  /** Host names a token-less loopback server answers writes for (DNS rebinding). */
  openHosts: ReadonlySet<string>;
}

// The content types a page may send cross-origin without a preflight (the Fetch standard's CORS-safelisted
// request-header values): a form or a `no-cors` fetch can send these, so the write side never accepts them.
const SIMPLE_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Whether a write (publish, rollout, promote, rollback) may proceed; answers the refusal itself. Off
 * loopback the admin token is required. Any request a browser made (an Origin header or Sec-Fetch-Site) is refused even on loopback, so no web page can publish through a developer's local server;
 * so is a body with a simple content type. The CLI sends neither.
 */
export function checkWriteAccess(req: IncomingMessage, res: ServerResponse, policy: WriteAccessPolicy, expectedType: string): boolean {
  // Not Sec-Fetch-Mode: Node's fetch (undici, which the CLI uses) sends `sec-fetch-mode: cors` too.
  if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) {
    sendJson(res, 403, {
      error: 'release writes are refused from browsers (Origin header present)',
      code: 'BROWSER_REQUEST_REFUSED',
      path: '$',
    });
    return false;
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (SIMPLE_TYPES.includes(type) || type !== expectedType) {
    sendJson(res, 415, { error: `expected Content-Type: ${expectedType}`, code: 'UNSUPPORTED_MEDIA_TYPE', path: '$' });
    return false;
  }
  if (policy.adminToken !== undefined) {
    if (hasReadAccess(req, new URL('http://x/'), { required: true, token: policy.adminToken }, false)) return true;
    sendJson(
      res,
      401,
      { error: 'admin token required (ONDEVICE_ADMIN_TOKEN)', code: 'UNAUTHORIZED', path: '$' },
      {
        'www-authenticate': 'Bearer realm="ondevice-releases"',
      },
    );
    return false;
  }
  if (!policy.loopback) {
    sendJson(res, 403, { error: 'set ONDEVICE_ADMIN_TOKEN to publish on a non-loopback server', code: 'ADMIN_TOKEN_REQUIRED', path: '$' });
    return false;
  }
  if (!hostAllowed(req, policy.openHosts)) {
    sendJson(res, 403, { error: `host ${JSON.stringify(req.headers.host ?? '')} not allowed`, code: 'HOST_NOT_ALLOWED', path: '$' });
    return false;
  }
  return true;
}

export interface ReadAccessPolicy {
  /** A read token is required (off loopback, or asked for). */
  required: boolean;
  /** COLLECTOR_READ_TOKEN. */
  token: string | undefined;
  /** Host names a token-less server answers reads for (DNS rebinding). */
  openHosts: ReadonlySet<string>;
}

/**
 * Whether a read (release status, jobs) may proceed, like the collector's read side; answers the refusal
 * itself: 403 `HOST_NOT_ALLOWED` for a foreign Host on a token-less server, 401 `UNAUTHORIZED` without the token.
 */
export function checkReadAccess(req: IncomingMessage, res: ServerResponse, url: URL, policy: ReadAccessPolicy): boolean {
  if (!policy.required && !hostAllowed(req, policy.openHosts)) {
    sendJson(res, 403, { error: `host ${JSON.stringify(req.headers.host ?? '')} not allowed`, code: 'HOST_NOT_ALLOWED', path: '$' });
    return false;
  }
  if (hasReadAccess(req, url, { required: policy.required, token: policy.token }, false)) return true;
  sendJson(
    res,
    401,
    { error: 'read token required', code: 'UNAUTHORIZED', path: '$' },
    { 'www-authenticate': 'Bearer realm="ondevice-collector"' },
  );
  return false;
}
