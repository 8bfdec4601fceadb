import * as Comlink from 'comlink';
import type { Backend, Feeds, LoadInfo, ModelSource, Progress, StoreOptions, WarmupReport, WebGpuOptions } from '../core/protocol';
import { explainThreads } from './explainThreads';
import { OnDeviceError, deserializeError } from '../core/OnDeviceError';
import type { WorkerHandle } from './WorkerHandle';
import { acquireWorker, releaseFromWorker } from './workerPool';

export interface LoadSettings {
  threads: number;
  /** false: none; true: generated sample inputs; Feeds: these inputs (copied, never transferred). */
  warmup: boolean | Feeds;
  /** A download that sends no bytes for this long fails with TIMEOUT. */
  stallTimeoutMs?: number;
  webgpu?: WebGpuOptions;
  /** false when the model was loaded with `telemetry: false`. */
  telemetry: boolean;
  store?: StoreOptions;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

let nextKey = 1;

/** A model loaded in a worker. `warmedUp` resolves when the worker's warm-up finished; never when it was off or did not pass. */
export interface LoadedOnBackend {
  handle: WorkerHandle;
  key: string;
  info: LoadInfo;
  warmedUp: Promise<WarmupReport>;
}

/** Load a session for `source` in a worker running `backend` (the shared one, or with `dedicated` a worker of its own). */
export async function loadOnBackend(
  source: ModelSource,
  backend: Backend,
  settings: LoadSettings,
  placement: { dedicated?: boolean } = {},
): Promise<LoadedOnBackend> {
  const { signal } = settings;
  if (signal?.aborted) throw new OnDeviceError('ABORTED', 'Loading was aborted');
  const handle = await acquireWorker(backend, settings.threads, placement);
  const key = `${source.id}#${nextKey++}`;
  handle.models.add(key);
  const progress = settings.onProgress ? Comlink.proxy(settings.onProgress) : undefined;
  let reportWarmedUp!: (report: WarmupReport) => void;
  const warmedUp = new Promise<WarmupReport>((resolve) => (reportWarmedUp = resolve));
  // Without a warm-up the worker never calls back, so there is no callback (nor its MessagePort) to keep.
  const onWarmedUp = settings.warmup === false ? undefined : Comlink.proxy((report: WarmupReport) => reportWarmedUp(report));
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      reject(new OnDeviceError('ABORTED', 'Loading was aborted'));
      // Stop the worker's side too (download, warm-up), not only this promise. Fire-and-forget: a
      // worker that is gone has nothing left to stop.
      void handle.call((api) => api.abortLoad(key)).catch(() => undefined);
    };
    // The signal may have fired while a worker was being started.
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    const result = await Promise.race([
      handle.call((api) =>
        api.load(
          {
            key,
            source,
            backend,
            warmup: settings.warmup,
            store: settings.store,
            stallTimeoutMs: settings.stallTimeoutMs,
            webgpu: settings.webgpu,
          },
          progress,
          onWarmedUp,
        ),
      ),
      aborted,
    ]);
    if (!result.ok) throw deserializeError(result.error);
    return { handle, key, info: explainThreads(result.value, settings.threads), warmedUp };
  } catch (error) {
    releaseFromWorker(handle, key);
    throw error;
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
