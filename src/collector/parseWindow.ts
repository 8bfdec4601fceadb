import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/sendJson';

const HOUR_MS = 60 * 60 * 1000;
export const MAX_WINDOW_MS = 90 * 24 * HOUR_MS;

/** `?windowMs=` (default one hour), or null after answering 400. */
export function parseWindow(url: URL, res: ServerResponse): number | null {
  const raw = url.searchParams.get('windowMs');
  if (raw === null) return HOUR_MS;
  const windowMs = Number(raw);
  if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs > MAX_WINDOW_MS) {
    sendJson(res, 400, { error: `windowMs must be an integer within [1000, ${MAX_WINDOW_MS}]`, code: 'INVALID_QUERY', path: 'windowMs' });
    return null;
  }
  return windowMs;
}
