import { HttpError } from '../http/HttpError';

/** Stable codes of the v2 server's JSON errors (`{ error, code }`); integrators switch on them. */
export type V2ErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'BODY_TIMEOUT'
  | 'BODY_ABORTED'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  | 'INFERENCE_FAILED'
  | 'WORKER_CRASHED'
  | 'MODEL_LOAD_FAILED'
  | 'RESPONSE_TOO_LARGE';

/**
 * A /v2 failure: an HttpError with one of the codes above, answered as the protocol's
 * `$inference_error_response` plus the code (`{ error, code }`, sendError's `v2` shape), with `details` when there
 * are any (e.g. `{ reason: 'MEMORY', limitBytes }`).
 */
export function v2Error(
  status: number,
  code: V2ErrorCode,
  message: string,
  headers: Record<string, string> = {},
  details?: Record<string, unknown>,
): HttpError {
  return new HttpError(status, code, message, { headers, details });
}
