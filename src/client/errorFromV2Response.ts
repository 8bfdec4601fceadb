import { isErrorCode, OnDeviceError, type ErrorCode } from '../core/OnDeviceError';

// The server's codes that are not ours, mapped to the code a caller of Model.run already handles.
const V2_ONLY: Record<string, ErrorCode> = {
  NOT_FOUND: 'MODEL_FETCH_FAILED',
  BODY_TOO_LARGE: 'INVALID_INPUT',
  BODY_TIMEOUT: 'TIMEOUT',
  METHOD_NOT_ALLOWED: 'NOT_SUPPORTED',
  UNAUTHORIZED: 'NOT_SUPPORTED',
  RATE_LIMITED: 'TIMEOUT',
  QUEUE_FULL: 'TIMEOUT',
};

/**
 * A `/v2` error answer (`{ error, code }`) as an OnDeviceError: the server's code when it is one of ours
 * (INVALID_INPUT, TIMEOUT, INFERENCE_FAILED, MODEL_LOAD_FAILED, WORKER_CRASHED), else the nearest one; a body
 * that is not the server's JSON (a proxy's error page) by status. `details` keeps the status and the
 * server's own code.
 */
export function errorFromV2Response(status: number, body: string, url: string): OnDeviceError {
  let message: string | undefined;
  let serverCode: string | undefined;
  try {
    const json = JSON.parse(body) as { error?: unknown; code?: unknown };
    if (typeof json.error === 'string') message = json.error;
    if (typeof json.code === 'string') serverCode = json.code;
  } catch {
    // Not JSON: decided by status below.
  }
  const code: ErrorCode =
    serverCode !== undefined && isErrorCode(serverCode)
      ? serverCode
      : serverCode !== undefined && serverCode in V2_ONLY
        ? V2_ONLY[serverCode]
        : status === 400 || status === 413
          ? 'INVALID_INPUT'
          : status === 404
            ? 'MODEL_FETCH_FAILED'
            : status === 504 || status === 408
              ? 'TIMEOUT'
              : 'INFERENCE_FAILED';
  const text = message ?? `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`;
  return new OnDeviceError(code, `The inference server answered ${url} with ${text}`, {
    url,
    status,
    ...(serverCode ? { serverCode } : {}),
  });
}
