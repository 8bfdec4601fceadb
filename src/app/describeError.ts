import { isOnDeviceError, type ErrorCode } from '../index';

/** What the demo tells a person for each error code: what happened and what they can do about it. */
const ADVICE: Record<ErrorCode, string> = {
  INVALID_INPUT: 'The input does not fit what the model expects. Check the file or the values and try again.',
  MODEL_FETCH_FAILED:
    'The model could not be downloaded. Check your connection (or that the server is running) and try again; models you used before also work offline.',
  MODEL_LOAD_FAILED: 'The file downloaded but is not a model onnxruntime can open (not ONNX, or an operator it does not support).',
  BACKEND_UNAVAILABLE: 'That backend is not available in this browser. Choose “auto” or “wasm” — WASM works everywhere.',
  BACKEND_LOST: 'The GPU stopped responding and the model could not move to WASM. Reload the model, or choose “wasm”.',
  WORKER_CRASHED: 'The worker running the model stopped (often out of memory). Try again; a smaller image or model helps.',
  ABORTED: 'Cancelled.',
  DISPOSED: 'The model was unloaded in the meantime. Load it again.',
  OUT_OF_MEMORY: 'The device ran out of memory for this model. Close other tabs, use a smaller input, or choose “wasm”.',
  INTEGRITY_MISMATCH:
    'The downloaded model did not match its checksum, even after a fresh download. The server may be serving a different file.',
  QUOTA_EXCEEDED:
    'There is not enough storage to keep this model offline. Delete stored models below or free up space; it still runs online.',
  TIMEOUT: 'This took too long. Try again, or try a smaller input.',
  INFERENCE_FAILED: 'The model failed while running. Try another input or backend.',
  NOT_SUPPORTED: 'This browser lacks a feature this needs. A current Chrome, Edge, Firefox or Safari works.',
};

export interface ErrorDescription {
  code: ErrorCode | 'UNEXPECTED';
  advice: string;
  /** The technical message, for the details line. */
  message: string;
}

export function describeError(error: unknown): ErrorDescription {
  if (isOnDeviceError(error)) return { code: error.code, advice: ADVICE[error.code], message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'UNEXPECTED', advice: 'Something unexpected went wrong. Reloading the page usually helps.', message };
}

/** Render an error into an alert region: the advice first, the code and technical message after. */
export function showError(region: HTMLElement, error: unknown): void {
  const { code, advice, message } = describeError(error);
  region.replaceChildren();
  const p = document.createElement('p');
  p.className = 'error-advice';
  p.textContent = advice;
  const details = document.createElement('p');
  details.className = 'error-detail';
  details.textContent = `${code}: ${message}`;
  region.append(p, details);
  region.hidden = false;
  region.dataset.code = code;
}

export function clearError(region: HTMLElement): void {
  region.replaceChildren();
  region.hidden = true;
  delete region.dataset.code;
}

export { ADVICE as ERROR_ADVICE };
