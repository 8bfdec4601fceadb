/// <reference lib="webworker" />
// What the runtime worker does (src/runtime/worker.ts exposes it): the only place onnxruntime-web is ever loaded.
import * as Comlink from 'comlink';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { OnDeviceError, serializeError, type SerializedError } from '../core/OnDeviceError';
import { createGpuDevice, type GpuContext } from './createGpuDevice';
import { loadOrt, type OrtModule } from './loadOrt';
import type {
  Feeds,
  LoadInfo,
  LoadRequest,
  Progress,
  Result,
  RunPortReply,
  RunPortRequest,
  RunResult,
  RuntimeWorkerApi,
  WarmedOn,
  WorkerConfig,
  WorkerMemory,
} from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleFeeds } from '../core/sampleFeeds';
import { normalizeDim } from '../core/normalizeDim';
import { transferablesOf } from '../core/transferablesOf';
import { fromOrtTensor, toOrtFeeds } from './tensors';
import { translateError } from './translateError';
import { modelBytes } from './modelBytes';
import type { StoreLoadResult } from '../cache/loadThroughStore';
import { wasmHeapBytes } from './trackWasmMemory';
import { startWasmRuntime } from './startWasmRuntime';
import { isWarmedUp } from './isWarmedUp';
import { destroyGpuFeeds, uploadGpuFeeds, type GpuFeeds } from './gpuFeeds';

interface Entry {
  key: string;
  session: InferenceSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Warm-up ran, or was not wanted. Else the first real run's inputs warm the session in the background. */
  warm: boolean;
  /** The session is busy with a warm-up run (a session is not re-entrant): real runs wait for it. */
  warming?: Promise<unknown>;
  /** Real runs waiting or running; a background warm-up stops as soon as one arrives. */
  pendingRuns: number;
  warmupRuns: number;
  /** Calls of `run` this session answered (the test hooks count them). */
  runs: number;
  /** Inputs must be GPU buffers (WebGPU graph capture); they are held here between runs. */
  inputsOnGpu: InputsOnGpu;
}

interface InputsOnGpu {
  enabled: boolean;
  held?: GpuFeeds;
}

let config: WorkerConfig | undefined;
let ort: OrtModule | undefined;
let gpu: GpuContext | undefined;
let deviceLostReason: string | undefined;
let deviceLost: Promise<string> | undefined;
const deviceLostCallbacks = new Map<string, (reason: string) => void>();
/** onnxruntime's wasm, started at `init` so that it compiles while the first model downloads. */
let runtimeStart: Promise<{ ok: boolean; ms: number }> | undefined;
let runtimeReady = false;
const sessions = new Map<string, Entry>();
const loading = new Map<string, AbortController>();

const WARMUP_BUDGET_MS = 1500;
/**
 * Symbolic dims past the batch dim, tried in turn when a model has no sample hint (loaded by URL):
 * 32 first, because many vision models need multiples of 32 and a 1-pixel input warms little of the
 * code a real input runs; then 1.
 */
const FREE_DIM_GUESSES = [32, 1];
// Warm-up runs are expected to fail for some models (a generated sample that does not suit them);
// onnxruntime would print each kernel error on the page's console. 4 = fatal only.
const QUIET: InferenceSession.RunOptions = { logSeverityLevel: 4 };

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
        for (const cb of deviceLostCallbacks.values()) cb(deviceLostReason);
        deviceLostCallbacks.clear();
        return deviceLostReason;
      });
    }
    ort = await loadOrt(next.bundle, next.ortBaseUrl, threads);
    if (gpu) ort.env.webgpu.device = gpu.device as never;
    config = { ...next, threads };
    // Fire-and-forget here; the first load awaits it before creating its session.
    runtimeStart = startWasmRuntime(ort, next.bundle).then((started) => {
      runtimeReady = started.ok;
      return started;
    });
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
      // onnxruntime-web reports an unnamed free dim as 2³²−1 (its -1 read back unsigned): normalizeDim makes it '?'.
      shape: m?.isTensor && m.shape ? m.shape.map(normalizeDim) : [],
    };
  });
}

function aborted(id: string): { ok: false; error: ReturnType<typeof serializeError> } {
  return { ok: false, error: new OnDeviceError('ABORTED', `Loading ${id} was aborted`).toJSON() };
}

async function load(request: LoadRequest, onProgress?: (p: Progress) => void): Promise<Result<LoadInfo & { warmedOn?: WarmedOn }>> {
  const controller = new AbortController();
  loading.set(request.key, controller);
  try {
    return await loadSession(request, controller.signal, onProgress);
  } finally {
    loading.delete(request.key);
  }
}

async function abortLoad(key: string): Promise<void> {
  loading.get(key)?.abort();
}

async function loadSession(
  request: LoadRequest,
  signal: AbortSignal,
  onProgress?: (p: Progress) => void,
): Promise<Result<LoadInfo & { warmedOn?: WarmedOn }>> {
  if (!ort || !config) return fail(new Error('worker not initialised'), 'MODEL_LOAD_FAILED', 'load');
  if (deviceLostReason) {
    return { ok: false, error: new OnDeviceError('BACKEND_LOST', `WebGPU device lost: ${deviceLostReason}`).toJSON() };
  }
  const t0 = performance.now();
  // On WASM the model's pre-optimised copy when it has one; a copy the server does not have, or that fails its sha256
  // or does not open, leaves the original (verified like any bytes) to load, and says why in `optimizedError`. A
  // network failure is the load's, as for any download (the stored part of the copy resumes next time).
  const optimizedRequest = withOptimizedBytes(request, ort.env.versions.web);
  let optimizedError: SerializedError | undefined;
  let opened = optimizedRequest ? await openSession(optimizedRequest, signal, onProgress) : undefined;
  if (opened && !opened.ok && !signal.aborted && copyIsUnusable(opened.error)) {
    optimizedError = opened.error;
    opened = undefined;
  }
  if (opened && !opened.ok) return opened;
  opened ??= await openSession(request, signal, onProgress);
  if (!opened.ok) return opened;
  const { fetched, session, t1 } = opened;
  // Model store: an older stored version may stand in for the requested one, with its own specs.
  const served = fetched.servedSource ?? request.source;
  const gpuOptions = request.backend === 'webgpu' ? (request.webgpu ?? {}) : {};
  const graphCapture = gpuOptions.graphCapture === true;
  const inputsOnGpu: InputsOnGpu = { enabled: graphCapture };
  const inputs = served.inputs ?? metadataOf(session, session.inputNames, 'input');
  const outputs = served.outputs ?? metadataOf(session, session.outputNames, 'output');
  const t2 = performance.now();
  // Warm-up doubles as the smoke run that decides whether WebGPU really works for this model.
  const wanted = request.warmup !== false;
  let warmedUp = false;
  let warmedOn: WarmedOn | undefined;
  let warmupMs = 0;
  if (wanted || request.backend === 'webgpu') {
    // Generating the sample is part of the attempt: metadata it cannot make inputs from fails like a bad sample.
    // WebGPU keeps its one small smoke input (SwiftShader is slow); WASM may guess larger free dims first.
    const guesses =
      typeof request.warmup === 'object'
        ? [() => request.warmup as Feeds]
        : served.sample?.dims || request.backend === 'webgpu'
          ? [() => sampleFeeds(inputs, served.sample)]
          : FREE_DIM_GUESSES.map((freeDim) => () => sampleFeeds(inputs, served.sample, freeDim));
    for (const [attempt, guess] of guesses.entries()) {
      try {
        const feeds = guess();
        const runMs: number[] = [];
        while (!signal.aborted && performance.now() - t2 < WARMUP_BUDGET_MS) {
          const started = performance.now();
          const out = await session.run(await ortFeedsOf(inputsOnGpu, feeds), QUIET);
          runMs.push(performance.now() - started);
          for (const t of Object.values(out)) t.dispose();
          if (!wanted || isWarmedUp(runMs)) break;
        }
        // A later guess may find the budget already spent by a failed one: no run, not warm.
        warmedUp = wanted && runMs.length > 0;
        if (warmedUp) {
          const dims = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, [...t.dims]]));
          const caller = typeof request.warmup === 'object';
          warmedOn = { dims, fill: caller ? undefined : served.sample?.fill, caller, runMs: runMs[runMs.length - 1] };
        }
        break;
      } catch (error) {
        destroyGpuFeeds(inputsOnGpu.held);
        inputsOnGpu.held = undefined;
        if (attempt < guesses.length - 1) continue;
        if (request.backend === 'webgpu') {
          await session.release().catch(() => undefined);
          return fail(error, 'BACKEND_UNAVAILABLE', `WebGPU smoke run failed for ${request.source.id}`);
        }
        // On WASM a failing warm-up means these inputs do not suit the model (e.g. a dim that must be a
        // multiple of 32); the session itself is fine. It is warmed on its first real inputs instead.
      }
    }
    warmupMs = performance.now() - t2;
  }
  if (signal.aborted) {
    await session.release().catch(() => undefined);
    destroyGpuFeeds(inputsOnGpu.held);
    return aborted(request.source.id);
  }
  const previous = sessions.get(request.key);
  if (previous) {
    await previous.session.release().catch(() => undefined);
    destroyGpuFeeds(previous.inputsOnGpu.held);
  }
  sessions.set(request.key, {
    key: request.key,
    session,
    inputs,
    outputs,
    warm: warmedUp || !wanted,
    pendingRuns: 0,
    warmupRuns: 0,
    runs: 0,
    inputsOnGpu,
  });
  return {
    ok: true,
    value: {
      backend: request.backend,
      inputs,
      outputs,
      bytes: fetched.bytes.byteLength,
      fromCache: fetched.fromCache,
      timings: { fetchMs: t1 - t0, sessionMs: t2 - t1, warmupMs },
      warmedUp,
      threads: config.threads,
      adapter: gpu?.adapter,
      storeWarning: fetched.storeWarning,
      version: served.version,
      ...(optimizedRequest && fetched.sha256 === optimizedRequest.source.sha256 ? { optimized: true } : {}),
      ...(optimizedError ? { optimizedError } : {}),
      warmedOn,
    },
  };
}

/**
 * Whether a pre-optimised copy's failure is the copy's own (the original should load instead): the server answered
 * without it, with other bytes, or bytes that do not open — not a dropped connection, a stall or an abort.
 */
function copyIsUnusable(error: SerializedError): boolean {
  if (error.code === 'INTEGRITY_MISMATCH' || error.code === 'MODEL_LOAD_FAILED') return true;
  return error.code === 'MODEL_FETCH_FAILED' && error.details?.reason !== 'NETWORK';
}

/** A session for `request`'s bytes (store or network, verified), or why there is none. */
async function openSession(
  request: LoadRequest,
  signal: AbortSignal,
  onProgress?: (p: Progress) => void,
): Promise<{ ok: true; fetched: StoreLoadResult; session: InferenceSession; t1: number } | { ok: false; error: SerializedError }> {
  if (!ort) return fail(new Error('worker not initialised'), 'MODEL_LOAD_FAILED', 'load');
  let fetched: StoreLoadResult;
  try {
    fetched = await modelBytes(request, (p) => onProgress?.(p), signal);
  } catch (error) {
    if (signal.aborted) return aborted(request.source.id);
    return fail(error, 'MODEL_FETCH_FAILED', `Could not fetch model ${request.source.id}`);
  }
  if (signal.aborted) return aborted(request.source.id);
  const t1 = performance.now();
  // Two first-time initialisations of one onnxruntime backend must not overlap; its failure is the session's to report.
  await runtimeStart;
  const gpuOptions = request.backend === 'webgpu' ? (request.webgpu ?? {}) : {};
  const graphCapture = gpuOptions.graphCapture === true;
  const keepOutputsOnGpu = gpuOptions.keepOutputsOnGpu === true;
  try {
    const session = await ort.InferenceSession.create(fetched.bytes, {
      executionProviders: [request.backend === 'webgpu' ? { name: 'webgpu' } : { name: 'wasm' }],
      graphOptimizationLevel: 'all',
      ...(graphCapture || keepOutputsOnGpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      ...(graphCapture ? { enableGraphCapture: true } : {}),
    });
    return { ok: true, fetched, session, t1 };
  } catch (error) {
    return fail(error, 'MODEL_LOAD_FAILED', `Could not create a session for ${request.source.id}`);
  }
}

/**
 * On WASM, a request for the model's pre-optimised copy (registry `optimized`) when the same onnxruntime
 * version wrote it: the session starts from graphs already optimised. It is verified against its own sha256
 * like any model bytes, and stored under its own key. WebGPU loads the original (the copy's fusions were
 * chosen for the CPU kernels). undefined when there is no copy to use.
 */
function withOptimizedBytes(request: LoadRequest, ortVersion: string | undefined): LoadRequest | undefined {
  const optimized = request.source.optimized;
  if (request.backend !== 'wasm' || !optimized || optimized.onnxruntime !== ortVersion) return undefined;
  const { url, sha256, bytes } = optimized;
  return { ...request, source: { ...request.source, url, sha256, bytes } };
}

/**
 * Warm a session on inputs that are known to suit it (a real call's), between real calls: each run
 * waits its turn, and the loop stops as soon as a real call is waiting. Fire-and-forget by design:
 * warm-up only makes later calls faster, so its failures are not reported.
 */
function warmInBackground(entry: Entry, feeds: Feeds): void {
  if (!ort) return;
  entry.warm = true;
  const started = performance.now();
  const ortModule = ort;
  void (async () => {
    // Start after the real call that found these inputs has returned (and released its turn).
    await new Promise((resolve) => setTimeout(resolve, 0));
    const runMs: number[] = [];
    while (!isWarmedUp(runMs) && performance.now() - started < WARMUP_BUDGET_MS) {
      if (entry.pendingRuns > 0 || sessions.get(entry.key) !== entry || deviceLostReason) return;
      const runStarted = performance.now();
      const turn = ortFeedsOf(entry.inputsOnGpu, feeds, ortModule).then((f) => entry.session.run(f, QUIET));
      entry.warming = turn;
      const out = await turn;
      entry.warming = undefined;
      runMs.push(performance.now() - runStarted);
      for (const t of Object.values(out)) t.dispose();
      entry.warmupRuns++;
    }
  })()
    .catch(() => undefined)
    .finally(() => (entry.warming = undefined));
}

async function run(key: string, feeds: Feeds): Promise<RunResult> {
  const entry = sessions.get(key);
  if (!entry || !ort) {
    return { ok: false, error: new OnDeviceError('DISPOSED', 'This model was disposed or never loaded in this worker').toJSON() };
  }
  if (deviceLostReason) return lostResult(feeds);
  entry.pendingRuns++;
  entry.runs++;
  try {
    // A background warm-up run may hold the session; wait for it (its failure is not ours).
    if (entry.warming) await entry.warming.catch(() => undefined);
    return await runNow(entry, feeds);
  } finally {
    entry.pendingRuns--;
  }
}

async function runNow(entry: Entry, feeds: Feeds): Promise<RunResult> {
  if (!ort) return { ok: false, error: new OnDeviceError('DISPOSED', 'This worker has no onnxruntime').toJSON() };
  const t0 = performance.now();
  try {
    // CPU feeds need no await: one microtask less on every run.
    const ortFeeds = entry.inputsOnGpu.enabled ? await ortFeedsOf(entry.inputsOnGpu, feeds) : toOrtFeeds(ort, feeds);
    const pending = entry.session.run(ortFeeds);
    // A run on a lost device may never settle; the device-lost promise bounds it.
    const outcome = deviceLost ? await Promise.race([pending, deviceLost.then(() => null)]) : await pending;
    if (outcome === null) return lostResult(feeds);
    const results: Feeds = {};
    for (const [name, tensor] of Object.entries(outcome)) {
      results[name] = await fromOrtTensor(tensor);
      tensor.dispose();
    }
    const ms = performance.now() - t0;
    // These inputs suit the model, so they can warm it where the load-time warm-up could not.
    if (!entry.warm) warmInBackground(entry, feeds);
    const value = { ok: true as const, value: results, ms };
    return Comlink.transfer(value, transferablesOf(results));
  } catch (error) {
    if (deviceLostReason) return lostResult(feeds);
    return fail(error, 'INFERENCE_FAILED', 'Inference failed');
  }
}

/** onnxruntime tensors for `feeds`: on the CPU, or in the GPU buffers a graph-captured session replays on. */
async function ortFeedsOf(inputsOnGpu: InputsOnGpu, feeds: Feeds, ortModule = ort): Promise<Record<string, OrtTensor>> {
  if (!ortModule) throw new OnDeviceError('DISPOSED', 'This worker has no onnxruntime');
  if (!inputsOnGpu.enabled || !gpu) return toOrtFeeds(ortModule, feeds);
  // The buffers must belong to the device onnxruntime runs on, which is the one it hands back here.
  const device = (await ortModule.env.webgpu.device) as GPUDevice;
  inputsOnGpu.held = uploadGpuFeeds(ortModule, device, feeds, inputsOnGpu.held);
  return inputsOnGpu.held.tensors;
}

/**
 * The next model's feeds from the previous one's outputs, as they are (GPU buffers stay on the GPU):
 * by name where every input has an output of that name, else in order.
 */
function chainFeeds(outputs: Record<string, OrtTensor>, next: Entry): Record<string, OrtTensor> {
  const names = next.inputs.map((i) => i.name);
  const values = Object.values(outputs);
  if (names.every((n) => n in outputs)) return Object.fromEntries(names.map((n) => [n, outputs[n]]));
  if (values.length === names.length) return Object.fromEntries(names.map((n, i) => [n, values[i]]));
  throw new OnDeviceError(
    'INVALID_INPUT',
    `The outputs (${Object.keys(outputs).join(', ')}) do not fit the next model's inputs (${names.join(', ')})`,
    {
      outputs: Object.keys(outputs),
      inputs: names,
    },
  );
}

async function runChain(keys: string[], feeds: Feeds): Promise<RunResult> {
  const entries = keys.map((key) => sessions.get(key));
  if (!ort || entries.length === 0 || entries.some((e) => !e)) {
    return {
      ok: false,
      error: new OnDeviceError('DISPOSED', 'A model of this chain was disposed or never loaded in this worker').toJSON(),
    };
  }
  if (deviceLostReason) return lostResult(feeds);
  const chain = entries as Entry[];
  for (const entry of chain) entry.pendingRuns++;
  const t0 = performance.now();
  let current: Record<string, OrtTensor> | undefined;
  try {
    for (const entry of chain) if (entry.warming) await entry.warming.catch(() => undefined);
    for (const [i, entry] of chain.entries()) {
      const ortFeeds = i === 0 ? await ortFeedsOf(entry.inputsOnGpu, feeds) : chainFeeds(current!, entry);
      const pending = entry.session.run(ortFeeds);
      const outcome = deviceLost ? await Promise.race([pending, deviceLost.then(() => null)]) : await pending;
      if (outcome === null) return lostResult(feeds);
      // The previous stage's outputs were this stage's inputs; their buffers go back to onnxruntime.
      if (current) for (const t of Object.values(current)) t.dispose();
      current = outcome;
    }
    const results: Feeds = {};
    for (const [name, tensor] of Object.entries(current!)) results[name] = await fromOrtTensor(tensor);
    const value = { ok: true as const, value: results, ms: performance.now() - t0 };
    return Comlink.transfer(value, transferablesOf(results));
  } catch (error) {
    if (deviceLostReason) return lostResult(feeds);
    return fail(error, 'INFERENCE_FAILED', 'Inference failed');
  } finally {
    if (current) for (const t of Object.values(current)) t.dispose();
    for (const entry of chain) entry.pendingRuns--;
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
  deviceLostCallbacks.delete(key);
  loading.get(key)?.abort();
  if (!entry) return;
  if (entry.warming) await entry.warming.catch(() => undefined);
  await entry.session.release().catch(() => undefined);
  destroyGpuFeeds(entry.inputsOnGpu.held);
}

async function memory(): Promise<WorkerMemory> {
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
  return {
    wasmHeapBytes: wasmHeapBytes(),
    jsHeapBytes: heap?.usedJSHeapSize ?? 0,
    sessions: sessions.size,
  };
}

async function openRunPort(port: MessagePort): Promise<void> {
  port.onmessage = (event: MessageEvent<RunPortRequest>) => {
    const { id, key, feeds } = event.data;
    void run(key, feeds)
      .catch((error: unknown): RunResult => fail(error, 'INFERENCE_FAILED', 'Inference failed'))
      .then((result) => {
        const buffers = result.ok ? transferablesOf(result.value) : result.feeds ? transferablesOf(result.feeds) : [];
        port.postMessage({ id, result } satisfies RunPortReply, buffers);
      });
  };
}

/** The runtime worker's API (src/core/protocol.ts). */
export const runtimeApi: RuntimeWorkerApi = {
  init,
  load,
  abortLoad,
  run,
  openRunPort,
  runChain,
  release,
  memory,
  async onDeviceLost(key, callback) {
    if (deviceLostReason) callback(deviceLostReason);
    else deviceLostCallbacks.set(key, callback);
  },
};

/** For the test-only worker (src/runtime/testingWorker.ts): what the hooks need to see and do. */
export const runtimeInternals = {
  /** Destroy the GPU device, as a driver reset would; false when this worker has none. */
  async destroyDevice(): Promise<boolean> {
    if (!gpu) return false;
    gpu.device.destroy();
    await deviceLost;
    return true;
  },
  deviceLostCallbackCount: () => deviceLostCallbacks.size,
  /** Whether onnxruntime's wasm runtime is up (started at init, before any model's bytes arrive). */
  runtimeReady: () => runtimeReady,
  runsOf: (key: string): number | undefined => sessions.get(key)?.runs,
  warmupOf(key: string): { warm: boolean; backgroundRuns: number } | undefined {
    const entry = sessions.get(key);
    return entry && { warm: entry.warm, backgroundRuns: entry.warmupRuns };
  },
};
