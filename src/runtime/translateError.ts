import { OnDeviceError, type ErrorCode } from '../core/OnDeviceError';

// onnxruntime-web surfaces wasm allocation failures in several shapes: a bare number (the C++
// exception pointer, see microsoft/onnxruntime#14945), "Aborted(OOM)", or V8's RangeErrors.
const OOM_PATTERNS = [
  /out of memory/i,
  /\bOOM\b/,
  /Array buffer allocation failed/i,
  /could not allocate memory/i,
  /Cannot enlarge memory/i,
  /bad_alloc/i,
  /failed to allocate/i,
  /GPUOutOfMemoryError/i,
];

/** Turn whatever onnxruntime threw into an OnDeviceError with a code a person can act on. */
export function translateError(error: unknown, fallback: ErrorCode, context: string): OnDeviceError {
  if (error instanceof OnDeviceError) return error;
  if (typeof error === 'number' || (typeof error === 'string' && /^\d+$/.test(error.trim()))) {
    return new OnDeviceError(
      'OUT_OF_MEMORY',
      `${context}: onnxruntime ran out of memory (it reported only the number ${String(error).trim()}). ` +
        'Use a smaller input, fewer models at once, or a quantized model.',
      { raw: String(error) },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  if (OOM_PATTERNS.some((p) => p.test(message))) {
    return new OnDeviceError('OUT_OF_MEMORY', `${context}: out of memory (${message})`, { raw: message });
  }
  return new OnDeviceError(fallback, `${context}: ${message}`, { raw: message });
}
