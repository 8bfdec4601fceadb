import { isIP } from 'node:net';

/**
 * True when `host` only accepts connections from this machine. Wildcards (`0.0.0.0`, `::`) are NOT
 * loopback: they listen on every interface.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
