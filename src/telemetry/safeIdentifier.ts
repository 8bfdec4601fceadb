import { LIMITS } from '../core/eventSchema';

/**
 * Identifiers the schema accepts (it keeps them safe as metric labels). Model ids come from callers and
 * file names (`my%20model.onnx` → `my model`), so the client maps every other character to `_` instead
 * of sending an event the collector refuses. Deterministic, so a prediction id in a `feedback` event
 * still matches the one in its `inference` event.
 */
export function safeModelId(value: string, maxLength: number = LIMITS.maxModelIdLength): string {
  return value.replace(/[^A-Za-z0-9_.:@/+-]/g, '_').slice(0, maxLength) || '-';
}

/** A model version (same alphabet as model ids). */
export function safeModelVersion(value: string | undefined): string {
  return safeModelId(value ?? '0', LIMITS.maxModelVersionLength);
}

/** An event/prediction id: `A-Z a-z 0-9 _ . : -`, 1..64 characters. */
export function safeId(value: string): string {
  return value.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, LIMITS.maxIdLength) || '_';
}
