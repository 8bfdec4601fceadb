import type { Backend, LoadInfo } from './protocol';
import type { OnDeviceError } from './OnDeviceError';

/** What the runtime tells observers (telemetry, the demo's diagnostics). Internal, not public API. */
/** `report: false` when the model was loaded with `telemetry: false`. */
export type LifecycleEvent = (
  | { type: 'model_load'; modelId: string; modelVersion?: string; info: LoadInfo; fallbackReason?: string; ms: number }
  | {
      type: 'inference';
      predictionId: string;
      modelId: string;
      modelVersion?: string;
      backend: Backend;
      ms: number;
      inputDims: Record<string, number[]>;
      outputs: Record<string, { type: string; dims: number[]; data: unknown }>;
    }
  | { type: 'error'; modelId?: string; modelVersion?: string; error: OnDeviceError }
  | { type: 'backend_lost'; modelId: string; modelVersion?: string; reason: string }
) & { report?: boolean };

type Listener = (event: LifecycleEvent) => void;
const listeners = new Set<Listener>();

export function onLifecycle(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether anyone listens: without a listener (telemetry off), callers skip building an event's details. */
export function lifecycleObserved(): boolean {
  return listeners.size > 0;
}

export function emitLifecycle(event: LifecycleEvent): void {
  for (const l of listeners) {
    try {
      l(event);
    } catch {
      // An observer must never break inference.
    }
  }
}
