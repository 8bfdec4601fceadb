import type { Backend, BackendPreference } from '../core/protocol';
import { OnDeviceError, deserializeError } from '../core/OnDeviceError';
import { requestGpuAdapter } from '../core/requestGpuAdapter';
import { getConfig } from './configure';
import { resolveSource, type ModelReference } from './resolveSource';
import { acquireWorker, defaultThreads } from './workerPool';
import type { WorkerHandle } from './WorkerHandle';

let nextKey = 1;

/** Backend trouble that makes `auto` try WASM, as `loadModel` does. */
const TRY_WASM_CODES = ['BACKEND_UNAVAILABLE', 'WORKER_CRASHED', 'OUT_OF_MEMORY'];

/**
 * Start what `loadModel` will need before the page asks for a model: the runtime worker, onnxruntime's wasm
 * compiled and started, and each model's bytes fetched and verified into the model store (on WASM a registry
 * model's pre-optimised copy) — everything but the session. A `loadModel` of the same sources and backend
 * afterwards (default threads) finds the worker ready and reads the bytes from the store. Resolves when all of
 * it is done; rejects with the first failure (`MODEL_FETCH_FAILED`, `INTEGRITY_MISMATCH`, `INVALID_INPUT`, …).
 * `backend`: `'auto'` (default) prepares WebGPU where this page has an adapter, else WASM. Without IndexedDB
 * the bytes cannot be kept, and `loadModel` fetches them again.
 *
 * @example
 * void preload(['silero-vad-v5']); // while the page renders; the user clicks "record" later
 * const vad = await loadModel('silero-vad-v5');
 */
export async function preload(sources: ModelReference[], options: { backend?: BackendPreference } = {}): Promise<void> {
  if (!Array.isArray(sources)) throw new OnDeviceError('INVALID_INPUT', 'preload(sources): sources must be an array of model references');
  const preference = options.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm'].includes(preference)) {
    throw new OnDeviceError('INVALID_INPUT', `backend must be 'auto', 'webgpu' or 'wasm', got ${String(preference)}`);
  }
  const threads = getConfig().threads ?? defaultThreads();
  const [resolved, { handle, backend }] = await Promise.all([
    Promise.all(sources.map((source) => resolveSource(source))),
    preparedWorker(preference, threads),
  ]);
  const store = { enabled: typeof indexedDB !== 'undefined' };
  await Promise.all(
    resolved.map(async (source) => {
      const key = `${source.id}#preload-${nextKey++}`;
      const result = await handle.call((api) => api.prefetch({ key, source, backend, warmup: false, store }));
      if (!result.ok) throw deserializeError(result.error);
    }),
  );
}

/** The worker `loadModel` will use for `preference`, started (its runtime compiling). */
async function preparedWorker(preference: BackendPreference, threads: number): Promise<{ handle: WorkerHandle; backend: Backend }> {
  if (preference === 'wasm') return { handle: await acquireWorker('wasm', threads), backend: 'wasm' };
  if (preference === 'auto' && !(await requestGpuAdapter()).ok) return { handle: await acquireWorker('wasm', threads), backend: 'wasm' };
  try {
    return { handle: await acquireWorker('webgpu', threads), backend: 'webgpu' };
  } catch (error) {
    if (preference !== 'auto' || !(error instanceof OnDeviceError) || !TRY_WASM_CODES.includes(error.code)) throw error;
    return { handle: await acquireWorker('wasm', threads), backend: 'wasm' };
  }
}
