import type { BackendPreference, Feeds, Progress, TensorTypes } from '../core/protocol';
import { getConfig } from './configure';
import type { TelemetryConfig } from '../telemetry/TelemetryConfig';
import { telemetryFor } from '../telemetry/telemetryClient';
import { requestPersistentStorage } from '../cache/requestPersistentStorage';
import { emitLifecycle } from '../core/lifecycle';
import { loadOnBackend, type LoadSettings } from './loadOnBackend';
import { Model } from './Model';
import { OnDeviceError } from '../core/OnDeviceError';
import { resolveSource, type ModelInput } from './resolveSource';
import { defaultThreads } from './workerPool';

export interface LoadModelOptions {
  /** 'auto' (default): WebGPU when it works for this model, else WASM, with the reason recorded. */
  backend?: BackendPreference;
  /** WASM threads (needs crossOriginIsolated). Default: half the cores, at most 4. */
  threads?: number;
  /** Download/read progress. */
  onProgress?: (progress: Progress) => void;
  signal?: AbortSignal;
  /**
   * Run the model a few times after loading so the first real call is fast (default true: on generated
   * sample inputs). Pass feeds to warm up on your own inputs (they are copied, not transferred). A model
   * the warm-up inputs do not suit loads anyway, quietly, and is warmed in the background on the shape
   * of its first real call (`model.info.warmedUp` says which happened).
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
}

/**
 * Load an ONNX model into a worker.
 *
 * @example
 * const model = await loadModel('silero-vad-v5', { onProgress: ({ loaded, total }) => bar.value = loaded / total })
 * console.log(model.backend, model.fallbackReason)
 */
export async function loadModel<In extends TensorTypes = TensorTypes, Out extends TensorTypes = TensorTypes>(
  source: ModelInput,
  options: LoadModelOptions = {},
): Promise<Model<In, Out>> {
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
  const warmup = options.warmup ?? true;
  if (typeof warmup !== 'boolean' && (typeof warmup !== 'object' || warmup === null || Array.isArray(warmup))) {
    throw new OnDeviceError('INVALID_INPUT', 'warmup must be true, false or feeds ({ [input]: { type, data, dims } })');
  }
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
      telemetry: options.telemetry !== false,
      onProgress: options.onProgress,
      signal: options.signal,
      store: { enabled: options.cache ?? typeof indexedDB !== 'undefined', budgetBytes: options.cacheBudgetBytes },
    };
    let fallbackReason: string | undefined;
    let loaded;
    if (preference === 'auto') {
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
    // A registry id follows the release server; `model.update()` asks it again.
    const followsReleases = typeof source === 'string' && resolved.version !== undefined && !source.includes('@');
    const model = new Model<In, Out>(
      { ...loaded, fallbackReason },
      resolved,
      settings,
      followsReleases ? (signal) => resolveSource(source, { signal, fresh: true }) : undefined,
    );
    // Stored models should survive storage pressure; fire-and-forget (only pages may ask).
    if (settings.store?.enabled && typeof window !== 'undefined') void requestPersistentStorage();
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
