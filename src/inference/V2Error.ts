/** Stable codes of the v2 server's JSON errors (`{ error, code }`); integrators switch on them. */
export type V2ErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  | 'BODY_TIMEOUT'
  | 'UNAUTHORIZED'
  | 'RATE_LIMITED'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  | 'INFERENCE_FAILED'
  | 'WORKER_CRASHED'
  | 'MODEL_LOAD_FAILED'
  | 'RESPONSE_TOO_LARGE';

/**
 * A failure that becomes an HTTP status and a JSON `{ error, code }` body (the protocol's `$inference_error_response`,
 * plus a code), with `details` when there are any (e.g. `{ reason: 'MEMORY', limitBytes }`).
 */
export class V2Error extends Error {
  override readonly name = 'V2Error';
  constructor(
    readonly status: number,
    readonly code: V2ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
