import type { Backend, WorkerConfig } from '../core/protocol';
import { getConfig } from './configure';
import { OnDeviceError, deserializeError } from '../core/OnDeviceError';
import { WorkerHandle } from './WorkerHandle';
import { markStartup } from '../core/markStartup';
import { compileRuntime, forgetCompiledRuntime } from './compileRuntime';

// Workers are shared by models with the same bundle and thread count (onnxruntime-web fixes both
// when a worker creates its first session) and terminated when their last model is released.
const pool = new Map<string, WorkerHandle>();
const all = new Set<WorkerHandle>();
// A worker is handed out only once `init` finished: a second load arriving while onnxruntime is still
// starting would otherwise reach the worker before its config ("worker not initialised").
const initialised = new WeakMap<WorkerHandle, Promise<void>>();

let workerFile = 'ondevice-worker.mjs';

/** @internal The test-only entry (src/testing.ts) starts its test-only worker instead, relative to `baseUrl`. */
export function useWorkerFile(file: string): void {
  workerFile = file;
}

export function defaultThreads(): number {
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  // onnxruntime-web's own default: half the cores, at most 4.
  return Math.max(1, Math.min(4, Math.ceil(cores / 2)));
}

/**
 * A worker for `bundle` with `threads`: the shared one, or with `dedicated` a new one nobody else gets
 * (runBatch's extra sessions: a worker runs one call at a time, so parallel runs need their own).
 */
export async function acquireWorker(bundle: Backend, threads: number, options: { dedicated?: boolean } = {}): Promise<WorkerHandle> {
  if (typeof Worker === 'undefined') {
    throw new OnDeviceError('NOT_SUPPORTED', 'Web Workers are not available here; ondevice runs models in a worker');
  }
  const effectiveThreads = globalThis.crossOriginIsolated ? threads : 1;
  const poolKey = `${bundle}:${effectiveThreads}`;
  const existing = options.dedicated ? undefined : pool.get(poolKey);
  if (existing?.alive) {
    await initialised.get(existing);
    return existing;
  }
  const { baseUrl } = getConfig();
  const config: WorkerConfig = { bundle, threads: effectiveThreads, ortBaseUrl: new URL('ort/', baseUrl).href };
  const handle = new WorkerHandle(new URL(workerFile, baseUrl).href, config);
  all.add(handle);
  handle.onDead(() => {
    all.delete(handle);
    if (pool.get(poolKey) === handle) pool.delete(poolKey);
    // The page's compiled runtime lives as long as a worker of its bundle does.
    if (![...all].some((h) => h.alive && h.config.bundle === bundle)) forgetCompiledRuntime(config.ortBaseUrl, bundle);
  });
  if (!options.dedicated) pool.set(poolKey, handle);
  // onnxruntime's wasm is compiled here, on the page (src/client/compileRuntime.ts), while the worker starts.
  // WebGPU's 27 MB only once the worker has its device: a load that cannot run there needs none.
  const compiling = bundle === 'wasm' ? compileRuntime(config.ortBaseUrl, bundle) : undefined;
  void compiling?.then((module) => module && markStartup('runtime-compiled', bundle));
  const init = (async () => {
    const result = await handle.call((api) => api.init(config));
    if (!result.ok) {
      handle.terminate('worker initialisation failed');
      throw deserializeError(result.error);
    }
    markStartup('worker-ready', bundle);
  })();
  // Fire-and-forget: a worker that died meanwhile has no runtime to start.
  void init
    .then(() => compiling ?? compileRuntime(config.ortBaseUrl, bundle))
    .then((module) => handle.call((api) => api.startRuntime(module)))
    .catch(() => undefined);
  initialised.set(handle, init);
  await init;
  return handle;
}

/** Forget a model; a worker with no models left is terminated to give its memory back. */
export function releaseFromWorker(handle: WorkerHandle, key: string): void {
  handle.models.delete(key);
  if (handle.models.size === 0 && handle.alive) {
    // Let the release message go out before terminating.
    void handle
      .call((api) => api.release(key))
      .catch(() => undefined)
      .finally(() => {
        if (handle.models.size === 0) handle.terminate('no models left');
      });
  } else if (handle.alive) {
    void handle.call((api) => api.release(key)).catch(() => undefined);
  }
}

/** @internal Live workers, for the test-only hooks (src/testing.ts). */
export function liveWorkers(): WorkerHandle[] {
  return [...all].filter((h) => h.alive);
}

/** Live workers (for tests and the demo's diagnostics). */
export function workerCount(): number {
  return [...all].filter((h) => h.alive).length;
}
