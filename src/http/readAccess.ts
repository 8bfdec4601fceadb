import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface ReadAccessPolicy {
  /** When false the read side is open (collector bound to loopback only). */
  required: boolean;
  token: string | undefined;
}

/**
 * Whether a read-side request may proceed: `Authorization: Bearer <token>`, or `?token=` when
 * `allowQueryToken` (only the dashboard page, which a person opens from a link).
 */
export function hasReadAccess(req: IncomingMessage, url: URL, policy: ReadAccessPolicy, allowQueryToken: boolean): boolean {
  if (!policy.required) return true;
  if (!policy.token) return false;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const offered = match?.[1] ?? (allowQueryToken ? url.searchParams.get('token') : null);
  return offered !== null && sameSecret(offered, policy.token);
}

/** Constant-time comparison; hashing first makes the inputs equal length so length does not leak. */
function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
