import type { IncomingMessage } from 'node:http';

/** Host names the open (token-less) loopback read side answers to, besides COLLECTOR_ALLOWED_HOSTS. */
export const LOOPBACK_HOST_NAMES = ['127.0.0.1', 'localhost', '[::1]'] as const;

/**
 * Whether the request's Host header names one of `allowed` (lower-case host names, IPv6 in brackets;
 * any port). A page on `attacker.example` whose DNS is rebound to 127.0.0.1 reaches the loopback
 * collector with `Host: attacker.example`, so the open read side checks it
 * (https://en.wikipedia.org/wiki/DNS_rebinding).
 */
export function hostAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const host = req.headers.host?.trim().toLowerCase();
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d*$/, '');
  return allowed.has(name.replace(/\.$/, ''));
}
