import type { BackendPreference, Feeds, ModelSource, Progress, TensorTypes, WebGpuOptions } from '../core/protocol';
import { getConfig, serverUrl } from './configure';
import type { TelemetryConfig } from '../telemetry/TelemetryConfig';
import { telemetryFor } from '../telemetry/telemetryClient';
import { requestPersistentStorage } from '../cache/requestPersistentStorage';
import { emitLifecycle } from '../core/lifecycle';
import { loadOnBackend, type LoadSettings } from './loadOnBackend';
import { Model, type ModelBackend, type ModelInfo } from './Model';
import { OnDeviceError } from '../core/OnDeviceError';
import { resolveSource, type ModelInput } from './resolveSource';
import { defaultThreads } from './workerPool';
import { assertDeviceCanTry } from './assertDeviceCanTry';
import { ServerSession } from './ServerSession';
import { installId } from '../telemetry/installId';
import { markStartup } from '../core/markStartup';
import { requestGpuAdapter } from '../core/requestGpuAdapter';

export interface LoadModelOptions {
  /** 'auto' (default): WebGPU when it works for this model, else WASM, with the reason recorded. */
  backend?: BackendPreference;
  /** WASM threads (needs crossOriginIsolated). Default: half the cores, at most 4. */
  threads?: number;
  /** Download/read progress. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /**
   * Run the model until its runs are steady, so that calls are fast from the first (default true: on the input
   * dims of an earlier load's first calls, else on generated sample inputs). Pass feeds to warm up on your own
   * inputs (they are copied, not transferred). `loadModel` waits for one smoke run only; the rest continues in
   * the worker between calls (a call waits at most for one warm-up run), and the model's `warmedup` event and
   * `info.warmedUp` say when it is done. A model the warm-up inputs do not suit loads anyway, quietly, and is
   * warmed on the inputs of its first call.
   */
  warmup?: boolean | Feeds;
  /** A download that sends no bytes for this long fails with TIMEOUT (default 30 000 ms). */
  stallTimeoutMs?: number;
  /** Expected sha256 for a model loaded by URL. */
  sha256?: string;
  /** Store the model in IndexedDB for offline use (default true where IndexedDB exists). */
  cache?: boolean;
  /**
   * Field telemetry for this model: a collector config, or `false` to opt this model out. Default: the
   * global `configure({ telemetry })`, off when none is set.
   */
  telemetry?: TelemetryConfig | false;
  /** Byte budget for the model store (default: the browser's quota). */
  cacheBudgetBytes?: number;
  /**
   * WebGPU session options, ignored on WASM: `keepOutputsOnGpu` (outputs stay in GPU buffers, so
   * `model.runThen(next, feeds)` hands them to the next model without a round trip through the CPU) and
   * `graphCapture` (onnxruntime records the first run's GPU commands and replays them; every run must
   * then have the same input dims, and the first run is the warm-up, so pass `warmup: feeds` of the real dims).
   */
  webgpu?: WebGpuOptions;
}

/**
 * Where the model may run. Separate from LoadModelOptions so that code typed with those alone keeps
 * getting a `Model` whose `backend` is a device backend.
 */
export interface ServerFallbackOptions {
  /**
   * `'server'`: when the device cannot run the model (no usable WebAssembly, the model is too big for
   * `navigator.deviceMemory`, or loading fails with BACKEND_UNAVAILABLE, OUT_OF_MEMORY, MODEL_LOAD_FAILED or
   * NOT_SUPPORTED), run it on the inference server (`configure({ server })`) instead; `model.location` is then
   * `'server'` and `model.fallbackReason` says why. Default `'none'`: such a load fails.
   */
  fallback?: 'server' | 'none';
  /** `'server'` runs the model on the inference server without trying the device. Default `'device'`. */
  location?: 'device' | 'server';
}

/** Device failures that `fallback: 'server'` answers by running on the server; others (a bad id, an abort) fail anyway. */
const SERVER_FALLBACK_CODES = ['BACKEND_UNAVAILABLE', 'OUT_OF_MEMORY', 'MODEL_LOAD_FAILED', 'NOT_SUPPORTED'];

/**
 * Load an ONNX model into a worker.
 *
 * @example
 * const model = await loadModel('silero-vad-v5', { onProgress: ({ loaded, total }) => bar.value = loaded / total })
 * console.log(model.backend, model.fallbackReason)
 */
export async function loadModel<In extends TensorTypes = TensorTypes, Out extends TensorTypes = TensorTypes>(
  source: ModelInput,
  options?: LoadModelOptions & { fallback?: 'none'; location?: 'device' },
): Promise<Model<In, Out>>;
/** With `fallback: 'server'` or `location: 'server'` the model may run on the server: `backend` may be `'server'`. */
export async function loadModel<In extends TensorTypes = TensorTypes, Out extends TensorTypes = TensorTypes>(
  source: ModelInput,
  options: LoadModelOptions & ServerFallbackOptions,
): Promise<Model<In, Out, ModelBackend>>;
export async function loadModel<In extends TensorTypes = TensorTypes, Out extends TensorTypes = TensorTypes>(
  source: ModelInput,
  options: LoadModelOptions & ServerFallbackOptions = {},
): Promise<Model<In, Out, ModelBackend>> {
  const started = performance.now();
  const preference = options.backend ?? 'auto';
  if (!['auto', 'webgpu', 'wasm'].includes(preference)) {
    throw new OnDeviceError('INVALID_INPUT', `backend must be 'auto', 'webgpu' or 'wasm', got ${String(preference)}`);
  }
  if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
    throw new OnDeviceError('INVALID_INPUT', `threads must be a positive integer, got ${String(options.threads)}`);
  }
  if (options.stallTimeoutMs !== undefined && !(Number.isFinite(options.stallTimeoutMs) && options.stallTimeoutMs > 0)) {
    throw new OnDeviceError('INVALID_INPUT', `stallTimeoutMs must be a positive number, got ${String(options.stallTimeoutMs)}`);
  }
  if (options.fallback !== undefined && options.fallback !== 'server' && options.fallback !== 'none') {
    throw new OnDeviceError('INVALID_INPUT', `fallback must be 'server' or 'none', got ${String(options.fallback)}`);
  }
  if (options.location !== undefined && options.location !== 'device' && options.location !== 'server') {
    throw new OnDeviceError('INVALID_INPUT', `location must be 'device' or 'server', got ${String(options.location)}`);
  }
  const warmup = options.warmup ?? true;
  if (typeof warmup !== 'boolean' && (typeof warmup !== 'object' || warmup === null || Array.isArray(warmup))) {
    throw new OnDeviceError('INVALID_INPUT', 'warmup must be true, false or feeds ({ [input]: { type, data, dims } })');
  }
  // `auto` where this page has no WebGPU adapter: straight to WASM (a WebGPU worker would find none either).
  // Asked now, while the model reference resolves; never rejects.
  const webGpu = preference === 'auto' ? requestGpuAdapter() : undefined;
  let modelId: string | undefined;
  const telemetry = options.telemetry === false ? undefined : (options.telemetry ?? getConfig().telemetry);
  if (telemetry) telemetryFor(telemetry);
  try {
    const resolved = await resolveSource(source, { sha256: options.sha256, signal: options.signal });
    modelId = resolved.id;
    const settings: LoadSettings = {
      threads: options.threads ?? getConfig().threads ?? defaultThreads(),
      warmup,
      stallTimeoutMs: options.stallTimeoutMs,
      webgpu: options.webgpu,
      telemetry: options.telemetry !== false,
      onProgress: options.onProgress,
      signal: options.signal,
      store: { enabled: options.cache ?? typeof indexedDB !== 'undefined', budgetBytes: options.cacheBudgetBytes },
    };
    if (options.location === 'server') {
      return await loadOnServer<In, Out>(resolved, settings, telemetry || undefined, "{ location: 'server' } was asked for");
    }
    if (options.fallback === 'server') {
      try {
        assertDeviceCanTry(resolved);
      } catch (error) {
        return await loadOnServer<In, Out>(
          resolved,
          settings,
          telemetry || undefined,
          reasonOf(error as OnDeviceError),
          error as OnDeviceError,
        );
      }
    }
    let fallbackReason: string | undefined;
    let loaded;
    try {
      const noWebGpu = await webGpu?.then((found) => (found.ok ? undefined : found.reason));
      if (preference === 'auto' && noWebGpu !== undefined) {
        fallbackReason = `WebGPU unavailable: ${noWebGpu}`;
        loaded = await loadOnBackend(resolved, 'wasm', settings);
      } else if (preference === 'auto') {
        try {
          loaded = await loadOnBackend(resolved, 'webgpu', settings);
        } catch (error) {
          const e = error as OnDeviceError;
          // Only backend trouble falls back; a missing or corrupt model fails the same on WASM.
          if (
            !(e instanceof OnDeviceError) ||
            !['BACKEND_UNAVAILABLE', 'MODEL_LOAD_FAILED', 'OUT_OF_MEMORY', 'WORKER_CRASHED', 'BACKEND_LOST'].includes(e.code)
          )
            throw e;
          fallbackReason = e.message;
          loaded = await loadOnBackend(resolved, 'wasm', settings);
        }
      } else {
        loaded = await loadOnBackend(resolved, preference, settings);
      }
    } catch (error) {
      const e = error as OnDeviceError;
      if (options.fallback !== 'server' || !(e instanceof OnDeviceError) || !SERVER_FALLBACK_CODES.includes(e.code)) throw e;
      return await loadOnServer<In, Out>(resolved, settings, telemetry || undefined, reasonOf(e), e);
    }
    // A registry id follows the release server; `model.update()` asks it again.
    const followsReleases = typeof source === 'string' && resolved.version !== undefined && !source.includes('@');
    const model = new Model<In, Out, ModelBackend>(
      { ...loaded, fallbackReason },
      resolved,
      settings,
      followsReleases ? (signal) => resolveSource(source, { signal, fresh: true }) : undefined,
    );
    // Stored models should survive storage pressure; fire-and-forget (only pages may ask).
    if (settings.store?.enabled && typeof window !== 'undefined') void requestPersistentStorage();
    markStartup('loaded', resolved.id);
    emitLifecycle({
      type: 'model_load',
      modelId: resolved.id,
      modelVersion: model.version,
      info: loaded.info,
      fallbackReason,
      ms: performance.now() - started,
      report: settings.telemetry,
    });
    return model;
  } catch (error) {
    const e = error instanceof OnDeviceError ? error : new OnDeviceError('MODEL_LOAD_FAILED', String((error as Error)?.message ?? error));
    emitLifecycle({ type: 'error', modelId, error: e, report: options.telemetry !== false });
    throw e;
  }
}

function reasonOf(error: OnDeviceError): string {
  return `${error.code}: ${error.message}`;
}

/**
 * The model on the inference server: its metadata must answer (the server knows this id and version).
 * When the device failed first and the server fails too, the server's error is thrown with the device's
 * in `details.deviceError`.
 */
async function loadOnServer<In extends TensorTypes, Out extends TensorTypes>(
  source: ModelSource,
  settings: LoadSettings,
  telemetry: TelemetryConfig | undefined,
  reason: string,
  deviceError?: OnDeviceError,
): Promise<Model<In, Out, ModelBackend>> {
  let server: ServerSession;
  try {
    server = await ServerSession.open(source, {
      server: serverUrl(),
      signal: settings.signal,
      // The server records each inference with these ids, so the dashboard joins them to this page's events.
      ids: telemetry && settings.telemetry ? () => ({ installId: installId(), sessionId: telemetryFor(telemetry)?.sessionId }) : undefined,
    });
  } catch (error) {
    if (!deviceError || !(error instanceof OnDeviceError) || error.code === 'ABORTED') throw error;
    throw new OnDeviceError(error.code, `${source.id} cannot run on this device (${reason}), and the server failed too: ${error.message}`, {
      ...error.details,
      deviceError: deviceError.toJSON(),
    });
  }
  const info: ModelInfo<'server'> = {
    backend: 'server',
    inputs: server.inputs,
    outputs: server.outputs,
    bytes: source.bytes ?? 0,
    fromCache: false,
    timings: { fetchMs: server.openMs, sessionMs: 0, warmupMs: 0 },
    threads: 0,
    ...(source.version ? { version: source.version } : {}),
  };
  return new Model<In, Out, ModelBackend>({ server, info, fallbackReason: reason }, source, settings);
}
