import type { ServerResponse } from 'node:http';
import { HttpError } from './HttpError';
import { sendJson } from './sendJson';

/**
 * The JSON error body of an endpoint family:
 * - `v1` (collector, releases, jobs, the app server): `{ error, code, path, ...details }`;
 * - `v2` (the Open Inference Protocol): `{ error, code, details? }`, the protocol's `$inference_error_response` plus a code
 *   and, when there are any, the error's details (`{ reason: 'MEMORY', limitBytes }`).
 */
export type ErrorShape = 'v1' | 'v2';

export interface SendErrorOptions {
  shape?: ErrorShape;
  /** Headers on every answer of the family (CORS); the error's own headers win. */
  headers?: Record<string, string>;
  /** Where a failure that is not an HttpError is logged (with its stack) before the 500 goes out. */
  log?: (line: string) => void;
  /** What failed, for the log line (`releases: POST /v1/releases/m/2`). */
  what?: string;
  /** How a failure that is not an HttpError is answered. Default 500 `INTERNAL` 'internal error', its cause logged. */
  internal?: (error: unknown) => HttpError;
}

/**
 * Answer `error`: an HttpError with its status, code and headers; anything else is logged and answered
 * 500 `INTERNAL` without its message (the cause goes to the log, not to the client). A response already
 * under way can only be cut.
 */
export function sendError(res: ServerResponse, error: unknown, options: SendErrorOptions = {}): void {
  const known = error instanceof HttpError ? error : undefined;
  if (!known) options.log?.(`${options.what ?? 'request'} failed: ${(error as Error)?.stack ?? String(error)}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const e = known ?? options.internal?.(error) ?? new HttpError(500, 'INTERNAL', 'internal error');
  const body =
    options.shape === 'v2'
      ? { error: e.message, code: e.code, ...(Object.keys(e.details).length > 0 ? { details: e.details } : {}) }
      : { error: e.message, code: e.code, path: e.path, ...e.details };
  sendJson(res, e.status, body, { ...options.headers, ...e.headers });
}
