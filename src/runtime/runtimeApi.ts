/// <reference lib="webworker" />
// The runtime worker: the only place onnxruntime-web is ever loaded.
import * as Comlink from 'comlink';
import type { InferenceSession } from 'onnxruntime-web';
import { OnDeviceError, serializeError } from '../core/OnDeviceError';
import { createGpuDevice, type GpuContext } from './createGpuDevice';
import { loadOrt, type OrtModule } from './loadOrt';
import type {
  Feeds,
  LoadInfo,
  LoadRequest,
  Progress,
  Result,
  RunResult,
  RuntimeWorkerApi,
  TensorSpec,
  WorkerConfig,
  WorkerMemory,
} from '../core/protocol';
import { sampleFeeds } from './sampleFeeds';
import { transferablesOf } from '../core/transferablesOf';
import { fromOrtTensor, toOrtFeeds } from './tensors';
import { translateError } from './translateError';
import { modelBytes } from './modelBytes';
import { trackWasmMemory, wasmHeapBytes } from './trackWasmMemory';

trackWasmMemory();

interface Entry {
  session: InferenceSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

let config: WorkerConfig | undefined;
let ort: OrtModule | undefined;
let gpu: GpuContext | undefined;
let deviceLostReason: string | undefined;
let deviceLost: Promise<string> | undefined;
const deviceLostCallbacks: ((reason: string) => void)[] = [];
const sessions = new Map<string, Entry>();

const WARMUP_RUNS = 10;
const WARMUP_BUDGET_MS = 1500;

function fail(
  error: unknown,
  code: Parameters<typeof translateError>[1],
  context: string,
): { ok: false; error: ReturnType<typeof serializeError> } {
  return { ok: false, error: serializeError(translateError(error, code, context)) };
}

async function init(next: WorkerConfig): Promise<Result<{ threads: number; crossOriginIsolated: boolean }>> {
  if (config) {
    if (config.bundle !== next.bundle || config.threads !== next.threads) {
      return fail(new OnDeviceError('INVALID_INPUT', 'a worker is initialised once'), 'INVALID_INPUT', 'init');
    }
    return { ok: true, value: { threads: config.threads, crossOriginIsolated: self.crossOriginIsolated } };
  }
  // Threads need SharedArrayBuffer, i.e. a cross-origin isolated context.
  const threads = self.crossOriginIsolated ? Math.max(1, next.threads) : 1;
  try {
    if (next.bundle === 'webgpu') {
      const created = await createGpuDevice();
      if (!created.ok) {
        return {
          ok: false,
          error: new OnDeviceError('BACKEND_UNAVAILABLE', `WebGPU unavailable: ${created.reason}`, { reason: created.reason }).toJSON(),
        };
      }
      gpu = created.value;
      deviceLost = gpu.device.lost.then((info) => {
        deviceLostReason = `${info.reason}: ${info.message}`;
        for (const cb of deviceLostCallbacks) cb(deviceLostReason);
        return deviceLostReason;
      });
    }
    ort = await loadOrt(next.bundle, next.ortBaseUrl, threads);
    if (gpu) ort.env.webgpu.device = gpu.device as never;
    config = { ...next, threads };
    return { ok: true, value: { threads, crossOriginIsolated: self.crossOriginIsolated } };
  } catch (error) {
    return fail(error, 'BACKEND_UNAVAILABLE', `Could not start onnxruntime-web (${next.bundle})`);
  }
}

function metadataOf(session: InferenceSession, names: readonly string[], kind: 'input' | 'output'): TensorSpec[] {
  const meta = (kind === 'input' ? session.inputMetadata : session.outputMetadata) as readonly {
    name: string;
    isTensor: boolean;
    type?: string;
    shape?: readonly (number | string)[];
  }[];
  return names.map((name, i) => {
    const m = meta?.[i];
    return {
      name,
      type: (m?.isTensor ? m.type : 'float32') as TensorSpec['type'],
      shape: m?.isTensor && m.shape ? m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) : [],
    };
  });
}

async function load(request: LoadRequest, onProgress?: (p: Progress) => void): Promise<Result<LoadInfo>> {
  if (!ort || !config) return fail(new Error('worker not initialised'), 'MODEL_LOAD_FAILED', 'load');
  if (deviceLostReason) {
    return { ok: false, error: new OnDeviceError('BACKEND_LOST', `WebGPU device lost: ${deviceLostReason}`).toJSON() };
  }
  const t0 = performance.now();
  let fetched;
  try {
    fetched = await modelBytes(request, (p) => onProgress?.(p));
  } catch (error) {
    return fail(error, 'MODEL_FETCH_FAILED', `Could not fetch model ${request.source.id}`);
  }
  const t1 = performance.now();
  // Model store: an older stored version may stand in for the requested one, with its own specs.
  const served = fetched.servedSource ?? request.source;
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(fetched.bytes, {
      executionProviders: [request.backend === 'webgpu' ? { name: 'webgpu' } : { name: 'wasm' }],
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    return fail(error, 'MODEL_LOAD_FAILED', `Could not create a session for ${request.source.id}`);
  }
  const inputs = served.inputs ?? metadataOf(session, session.inputNames, 'input');
  const outputs = served.outputs ?? metadataOf(session, session.outputNames, 'output');
  const t2 = performance.now();
  // Warm-up doubles as the smoke run that decides whether WebGPU really works for this model.
  let warmupMs = 0;
  if (request.warmup || request.backend === 'webgpu') {
    const feeds = sampleFeeds(inputs, served.sample);
    const runs = request.warmup ? WARMUP_RUNS : 1;
    try {
      for (let i = 0; i < runs && performance.now() - t2 < WARMUP_BUDGET_MS; i++) {
        const out = await session.run(toOrtFeeds(ort, feeds));
        for (const t of Object.values(out)) t.dispose();
      }
    } catch (error) {
      if (request.backend === 'webgpu') {
        await session.release().catch(() => undefined);
        return fail(error, 'BACKEND_UNAVAILABLE', `WebGPU smoke run failed for ${request.source.id}`);
      }
      // On WASM a failing warm-up means our generated sample does not suit the model (e.g. a dim that
      // must be a multiple of 32); the session itself is fine, so carry on without warm-up.
    }
    warmupMs = performance.now() - t2;
  }
  const previous = sessions.get(request.key);
  if (previous) await previous.session.release().catch(() => undefined);
  sessions.set(request.key, { session, inputs, outputs });
  return {
    ok: true,
    value: {
      backend: request.backend,
      inputs,
      outputs,
      bytes: fetched.bytes.byteLength,
      fromCache: fetched.fromCache,
      timings: { fetchMs: t1 - t0, sessionMs: t2 - t1, warmupMs },
      threads: config.threads,
      adapter: gpu?.adapter,
      storeWarning: fetched.storeWarning,
      version: served.version,
    },
  };
}

async function run(key: string, feeds: Feeds): Promise<RunResult> {
  const entry = sessions.get(key);
  if (!entry || !ort) {
    return { ok: false, error: new OnDeviceError('DISPOSED', 'This model was disposed or never loaded in this worker').toJSON() };
  }
  if (deviceLostReason) return lostResult(feeds);
  const t0 = performance.now();
  try {
    const pending = entry.session.run(toOrtFeeds(ort, feeds));
    // A run on a lost device may never settle; the device-lost promise bounds it.
    const outcome = deviceLost ? await Promise.race([pending, deviceLost.then(() => null)]) : await pending;
    if (outcome === null) return lostResult(feeds);
    const results: Feeds = {};
    for (const [name, tensor] of Object.entries(outcome)) {
      results[name] = await fromOrtTensor(tensor);
      tensor.dispose();
    }
    const value = { ok: true as const, value: results, ms: performance.now() - t0 };
    return Comlink.transfer(value, transferablesOf(results));
  } catch (error) {
    if (deviceLostReason) return lostResult(feeds);
    return fail(error, 'INFERENCE_FAILED', 'Inference failed');
  }
}

function lostResult(feeds: Feeds): RunResult {
  // Hand the inputs back so the page can re-run them on WASM without the caller noticing.
  const value: RunResult = {
    ok: false,
    error: new OnDeviceError('BACKEND_LOST', `WebGPU device lost: ${deviceLostReason}`, { reason: deviceLostReason }).toJSON(),
    feeds,
  };
  return Comlink.transfer(value, transferablesOf(feeds));
}

async function release(key: string): Promise<void> {
  const entry = sessions.get(key);
  sessions.delete(key);
  if (entry) await entry.session.release().catch(() => undefined);
}

async function memory(): Promise<WorkerMemory> {
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return {
    wasmHeapBytes: wasmHeapBytes(),
    jsHeapBytes: heap?.usedJSHeapSize ?? 0,
    sessions: sessions.size,
  };
}

const api: RuntimeWorkerApi = {
  init,
  load,
  run,
  release,
  memory,
  async onDeviceLost(callback) {
    if (deviceLostReason) callback(deviceLostReason);
    else deviceLostCallbacks.push(callback);
  },
  async destroyDeviceForTest() {
    if (!gpu) return false;
    gpu.device.destroy();
    await deviceLost;
    return true;
  },
};

Comlink.expose(api);
