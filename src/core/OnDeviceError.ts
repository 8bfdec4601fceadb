/**
 * Stable error codes. These strings are part of the public contract: integrators switch on them,
 * so a code is never renamed or reused for a different failure.
 */
export const ERROR_CODES = [
  /** A feed, option or argument is wrong (name, element type, rank, dims, data length). */
  'INVALID_INPUT',
  /** The model bytes could not be fetched (network error, HTTP error, not a model, CORS). */
  'MODEL_FETCH_FAILED',
  /** onnxruntime could not create a session from the bytes (not ONNX, unsupported op, …). */
  'MODEL_LOAD_FAILED',
  /** The requested backend does not exist in this browser (e.g. `backend: 'webgpu'` without an adapter). */
  'BACKEND_UNAVAILABLE',
  /** The GPU device was lost while a call was pending and the call could not be completed on WASM. */
  'BACKEND_LOST',
  /** The worker died (crash, out of memory, terminated). The next call starts a new worker. */
  'WORKER_CRASHED',
  /** The caller's AbortSignal fired. */
  'ABORTED',
  /** The model was disposed. */
  'DISPOSED',
  /** onnxruntime ran out of memory (wasm heap or GPU buffers). */
  'OUT_OF_MEMORY',
  /** Model bytes did not match their sha256 (after one fresh download). */
  'INTEGRITY_MISMATCH',
  /** The model cannot be stored: not enough quota or free space, even after eviction. */
  'QUOTA_EXCEEDED',
  /** A bounded wait ran out. */
  'TIMEOUT',
  /** onnxruntime failed while running a valid input (a kernel error). */
  'INFERENCE_FAILED',
  /** A feature this call needs is missing in this environment (no Worker, no IndexedDB, …). */
  'NOT_SUPPORTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The shape of an error as it crosses a worker, service-worker or network boundary. */
export interface SerializedError {
  name: 'OnDeviceError';
  code: ErrorCode;
  message: string;
  details: Record<string, unknown>;
}

/**
 * The one error type every public API rejects with.
 *
 * @example
 * try { await model.run(feeds) } catch (e) {
 *   if (e instanceof OnDeviceError && e.code === 'INVALID_INPUT') showHint(e.message)
 * }
 */
export class OnDeviceError extends Error {
  override readonly name = 'OnDeviceError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

export function isOnDeviceError(value: unknown): value is OnDeviceError {
  return value instanceof OnDeviceError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** Serialize deliberately (structured clone drops custom fields of Error subclasses). */
export function serializeError(error: unknown, fallbackCode: ErrorCode = 'INFERENCE_FAILED'): SerializedError {
  if (error instanceof OnDeviceError) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return { name: 'OnDeviceError', code: fallbackCode, message, details: {} };
}

export function deserializeError(value: unknown): OnDeviceError {
  if (value && typeof value === 'object' && (value as SerializedError).name === 'OnDeviceError') {
    const s = value as SerializedError;
    if (isErrorCode(s.code)) return new OnDeviceError(s.code, s.message, s.details ?? {});
  }
  return new OnDeviceError('INFERENCE_FAILED', String((value as Error)?.message ?? value));
}
