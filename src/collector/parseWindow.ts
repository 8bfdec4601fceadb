import { HttpError } from '../http/HttpError';

const HOUR_MS = 60 * 60 * 1000;
export const MAX_WINDOW_MS = 90 * 24 * HOUR_MS;

/** `?windowMs=` (default one hour); 400 `INVALID_QUERY` when it is not a whole number of ms within bounds. */
export function parseWindow(url: URL): number {
  const raw = url.searchParams.get('windowMs');
  if (raw === null) return HOUR_MS;
  const windowMs = Number(raw);
  if (!Number.isInteger(windowMs) || windowMs < 1000 || windowMs > MAX_WINDOW_MS) {
    throw new HttpError(400, 'INVALID_QUERY', `windowMs must be an integer within [1000, ${MAX_WINDOW_MS}]`, { path: 'windowMs' });
  }
  return windowMs;
}
