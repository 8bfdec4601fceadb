/// <reference lib="webworker" />
// What the runtime worker does (src/runtime/worker.ts exposes it): the only place onnxruntime-web is ever loaded.
import * as Comlink from 'comlink';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { OnDeviceError, serializeError, type SerializedError } from '../core/OnDeviceError';
import { createGpuDevice, type GpuContext } from './createGpuDevice';
import { loadOrt, type OrtModule } from './loadOrt';
import { headRound as runHeadRound } from './headRound';
import type {
  Feeds,
  HeadRoundRequest,
  HeadRoundResult,
  LoadInfo,
  LoadRequest,
  Progress,
  Result,
  RunPortReply,
  RunPortRequest,
  RunResult,
  RuntimeWorkerApi,
  WarmupReport,
  WorkerConfig,
  WorkerMemory,
} from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { normalizeDim } from '../core/normalizeDim';
import { transferablesOf } from '../core/transferablesOf';
import { fromOrtTensor, toOrtFeeds } from './tensors';
import { translateError } from './translateError';
import { modelBytes } from './modelBytes';
import { assertListedSizeFits, assertSetFits } from './assertSetFits';
import { assertTensorsFitFiles } from '../core/onnx/externalDataFiles';
import { externalizeWeights, SELF_LOCATION } from '../core/onnx/externalizeWeights';
import { backgroundUpdates, type StoreLoadResult } from '../cache/loadThroughStore';
import { wasmHeapBytes } from './trackWasmMemory';
import { startWasmRuntime } from './startWasmRuntime';
import { SessionWarmup } from './SessionWarmup';
import { warmupCandidates } from './warmupCandidates';
import { warmupMemory, type WarmupRecord } from '../cache/warmupMemory';
import { storeKeyOf } from '../cache/storeKeyOf';
import { comparedConstants } from '../core/onnx/comparedConstants';
import { markStartup } from '../core/markStartup';
import { destroyGpuFeeds, uploadGpuFeeds, type GpuFeeds } from './gpuFeeds';

interface Entry {
  key: string;
  session: InferenceSession;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** The rest of the warm-up, between calls (calls wait for its run in flight: a session is not re-entrant). */
  warmup: SessionWarmup;
  /** The page's `onWarmedUp` callback until it was called (a comlink proxy: released then, or with the session). */
  onWarmedUp?: (report: WarmupReport) => void;
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
/** onnxruntime's wasm, started right after `init` so that it compiles while the first model downloads. */
let runtimeStart: Promise<{ ok: boolean; ms: number }> | undefined;
/** The page's compiled wasm module (or none: compile here), offered once by `startRuntime`. */
let offerRuntimeModule: (module: WebAssembly.Module | undefined) => void = () => undefined;
const offeredRuntimeModule = new Promise<WebAssembly.Module | undefined>((resolve) => (offerRuntimeModule = resolve));
let runtimeReady = false;
/** Whether the runtime was instantiated from the page's compiled module (the test hooks ask). */
let runtimeFromPage = false;
const sessions = new Map<string, Entry>();
const loading = new Map<string, AbortController>();

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
        for (const entry of sessions.values()) entry.warmup.stop();
        for (const cb of deviceLostCallbacks.values()) cb(deviceLostReason);
        deviceLostCallbacks.clear();
        return deviceLostReason;
      });
    }
    ort = await loadOrt(next.bundle, next.ortBaseUrl, threads);
    markStartup('ort-imported');
    if (gpu) ort.env.webgpu.device = gpu.device as never;
    config = { ...next, threads };
    // Fire-and-forget here; the first load awaits it before creating its session.
    const loaded = ort;
    runtimeStart = offeredRuntimeModule
      .then((module) => startWasmRuntime(loaded, next.bundle, module))
      .then((started) => {
        runtimeReady = started.ok;
        runtimeFromPage = started.fromPage;
        markStartup('wasm-ready');
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

async function load(
  request: LoadRequest,
  onProgress?: (p: Progress) => void,
  onWarmedUp?: (report: WarmupReport) => void,
): Promise<Result<LoadInfo>> {
  markStartup('load', request.source.id);
  const controller = new AbortController();
  loading.set(request.key, controller);
  try {
    const result = await loadSession(request, controller.signal, onProgress, onWarmedUp);
    // A session that did not load will never call back: let the page's end of the callback go.
    if (!result.ok) releaseCallback(onWarmedUp);
    return result;
  } finally {
    loading.delete(request.key);
  }
}

/** Close a comlink callback proxy (its MessagePort), if it is one. */
function releaseCallback(callback: unknown): void {
  (callback as Partial<Record<typeof Comlink.releaseProxy, () => void>> | undefined)?.[Comlink.releaseProxy]?.();
}

/**
 * `preload`: the bytes a load of `request` would use (on WASM its pre-optimised copy, else the original), fetched
 * and verified into the model store, and onnxruntime's runtime up — no session.
 */
async function prefetch(request: LoadRequest): Promise<Result<{ bytes: number; fromCache: boolean }>> {
  if (!ort) return fail(new Error('worker not initialised'), 'MODEL_FETCH_FAILED', 'preload');
  const fetchBytes = async (r: LoadRequest): Promise<Result<StoreLoadResult>> => {
    try {
      return {
        ok: true,
        value: await modelBytes(
          r,
          () => undefined,
          undefined,
          (plan) => assertSetFits(plan, r),
        ),
      };
    } catch (error) {
      return fail(error, 'MODEL_FETCH_FAILED', `Could not fetch model ${r.source.id}`);
    }
  };
  const optimizedRequest = withOptimizedBytes(request, ort.env.versions.web);
  let fetched = optimizedRequest ? await fetchBytes(optimizedRequest) : undefined;
  if (fetched && !fetched.ok && copyIsUnusable(fetched.error)) fetched = undefined;
  fetched ??= await fetchBytes(request);
  if (!fetched.ok) return fetched;
  await runtimeStart;
  return { ok: true, value: sizeOfSet(fetched.value) };
}

/** A set's bytes (the ONNX file and every data file) and whether all of it came from the model store. */
function sizeOfSet(files: StoreLoadResult): { bytes: number; fromCache: boolean } {
  return {
    bytes: files.bytes.byteLength + files.dataFiles.reduce((sum, f) => sum + f.bytes.byteLength, 0),
    fromCache: files.fromCache && files.dataFiles.every((f) => f.fromCache),
  };
}

async function abortLoad(key: string): Promise<void> {
  loading.get(key)?.abort();
}

async function loadSession(
  request: LoadRequest,
  signal: AbortSignal,
  onProgress?: (p: Progress) => void,
  onWarmedUp?: (report: WarmupReport) => void,
): Promise<Result<LoadInfo>> {
  if (!ort || !config) return fail(new Error('worker not initialised'), 'MODEL_LOAD_FAILED', 'load');
  if (deviceLostReason) {
    return { ok: false, error: new OnDeviceError('BACKEND_LOST', `WebGPU device lost: ${deviceLostReason}`).toJSON() };
  }
  const t0 = performance.now();
  const wanted = request.warmup !== false;
  // The warm-up memory of this model version (the dims of an earlier load's first calls), read while the session
  // is made. Kept with the model store: `cache: false` remembers nothing.
  const memoryKey = wanted && request.store?.enabled ? storeKeyOf(request.source) : undefined;
  const memoryRead: Promise<WarmupRecord | undefined> = memoryKey
    ? warmupMemory.read(memoryKey).catch(() => undefined)
    : Promise.resolve(undefined);
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
  const memory = await memoryRead;
  const entryKey = request.key;
  const warmup = new SessionWarmup({
    run: (feeds) => runQuietly(session, inputsOnGpu, feeds),
    wanted,
    memoryKey,
    remembered: memory?.shapes,
    onDone: (report) => {
      const entry = sessions.get(entryKey);
      if (entry?.warmup !== warmup || !entry.onWarmedUp) return;
      entry.onWarmedUp(report);
      releaseCallback(entry.onWarmedUp);
      entry.onWarmedUp = undefined;
    },
  });
  // Before the load resolves: one smoke run. On WebGPU it decides that the backend works for this model (and with
  // graph capture it is the capture run), so it runs even with `warmup: false`. The rest of the warm-up continues
  // between calls once the load resolved. On WASM inputs that do not suit the model leave the session as it is:
  // it is then warmed on its first call's inputs.
  let warmupMs = 0;
  if (wanted || request.backend === 'webgpu') {
    const { candidates, extras } = warmupCandidates({
      warmup: request.warmup,
      backend: request.backend,
      inputs,
      sample: served.sample,
      compared: needsGeneratedValues(request.warmup, inputs, served.sample) ? fetched.compared : undefined,
      memory,
    });
    const smoke = await warmup.smoke(candidates, extras);
    warmupMs = performance.now() - t2;
    markStartup('smoke-run', request.source.id);
    if (!smoke.ok && request.backend === 'webgpu') {
      await session.release().catch(() => undefined);
      return fail(smoke.error ?? new Error('no inputs to run'), 'BACKEND_UNAVAILABLE', `WebGPU smoke run failed for ${request.source.id}`);
    }
  }
  if (signal.aborted) {
    await session.release().catch(() => undefined);
    destroyGpuFeeds(inputsOnGpu.held);
    return aborted(request.source.id);
  }
  const previous = sessions.get(request.key);
  if (previous) await releaseEntry(previous);
  sessions.set(request.key, { key: request.key, session, inputs, outputs, warmup, onWarmedUp, runs: 0, inputsOnGpu });
  // Its first step is a task of its own: the load's answer goes out first.
  warmup.start();
  return {
    ok: true,
    value: {
      backend: request.backend,
      inputs,
      outputs,
      bytes: fetched.bytes,
      ...(fetched.dataFiles.length > 0 ? { dataFiles: fetched.dataFiles } : {}),
      fromCache: fetched.fromCache,
      timings: { fetchMs: t1 - t0, sessionMs: t2 - t1, warmupMs },
      warmedUp: false,
      threads: config.threads,
      adapter: gpu?.adapter,
      storeWarning: fetched.storeWarning,
      version: served.version,
      ...(optimizedRequest && fetched.sha256 === optimizedRequest.source.sha256 ? { optimized: true } : {}),
      ...(optimizedError ? { optimizedError } : {}),
    },
  };
}

/** Whether generated warm-up inputs include an integer input the sample hint gives no value for (then the graph is read). */
function needsGeneratedValues(warmup: LoadRequest['warmup'], inputs: TensorSpec[], sample: LoadRequest['source']['sample']): boolean {
  if (typeof warmup === 'object') return false;
  return inputs.some((i) => INTEGER_TYPES.has(i.type) && sample?.fill?.[i.name] === undefined);
}

const INTEGER_TYPES = new Set<string>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64']);

/**
 * Whether a pre-optimised copy's failure is the copy's own (the original should load instead): the server answered
 * without it, with other bytes, or bytes that do not open — not a dropped connection, a stall or an abort.
 */
function copyIsUnusable(error: SerializedError): boolean {
  if (error.code === 'INTEGRITY_MISMATCH' || error.code === 'MODEL_LOAD_FAILED') return true;
  return error.code === 'MODEL_FETCH_FAILED' && error.details?.reason !== 'NETWORK';
}

/** What a session was made from: sizes and provenance only (the bytes themselves are dropped once onnxruntime has them). */
interface OpenedFiles {
  /** The ONNX file plus every data file. */
  bytes: number;
  sha256: string;
  fromCache: boolean;
  storeWarning?: SerializedError;
  servedSource?: StoreLoadResult['servedSource'];
  dataFiles: { location: string; bytes: number }[];
  /** Integer constants the graph compares inputs with (generated warm-up values), read before the bytes went. */
  compared: Record<string, number[]>;
}

/** A session for `request`'s files (store or network, verified), or why there is none. */
async function openSession(
  request: LoadRequest,
  signal: AbortSignal,
  onProgress?: (p: Progress) => void,
): Promise<{ ok: true; fetched: OpenedFiles; session: InferenceSession; t1: number } | { ok: false; error: SerializedError }> {
  if (!ort) return fail(new Error('worker not initialised'), 'MODEL_LOAD_FAILED', 'load');
  let files: StoreLoadResult | undefined;
  try {
    assertListedSizeFits(request);
    files = await modelBytes(
      request,
      (p) => onProgress?.(p),
      signal,
      (plan) => assertSetFits(plan, request),
    );
  } catch (error) {
    if (signal.aborted) return aborted(request.source.id);
    return fail(error, 'MODEL_FETCH_FAILED', `Could not fetch model ${request.source.id}`);
  }
  if (signal.aborted) return aborted(request.source.id);
  markStartup('bytes-ready', request.source.id);
  const t1 = performance.now();
  const fetched: OpenedFiles = {
    ...sizeOfSet(files),
    sha256: files.sha256,
    storeWarning: files.storeWarning,
    servedSource: files.servedSource,
    dataFiles: files.dataFiles.map((f) => ({ location: f.location, bytes: f.bytes.byteLength })),
    // Not needed when the caller gave the warm-up feeds (needsGeneratedValues); WebGPU's smoke run may need them even without a warm-up.
    compared: typeof request.warmup === 'object' ? {} : comparedConstants(files.bytes),
  };
  // Two first-time initialisations of one onnxruntime backend must not overlap; its failure is the session's to report.
  await runtimeStart;
  const gpuOptions = request.backend === 'webgpu' ? (request.webgpu ?? {}) : {};
  const graphCapture = gpuOptions.graphCapture === true;
  const keepOutputsOnGpu = gpuOptions.keepOutputsOnGpu === true;
  try {
    // Every tensor must lie inside its file before onnxruntime reads it (it would read past the end, or fail vaguely).
    assertTensorsFitFiles(files.plan.tensors.external, new Map(fetched.dataFiles.map((f) => [f.location, f.bytes])), request.source.id);
    // onnxruntime copies each tensor's bytes into its heap as it creates the session: handing it the verified files
    // as they are (no copy of ours), and letting go of them right after, is the fewest copies its API allows. Weights
    // inside the ONNX file are handed over the same way, as references into the file's own bytes: otherwise the
    // whole file is copied into the heap first and every tensor out of it again (twice the weights, for good).
    const slim = externalizeWeights(files.bytes);
    const model = slim ?? files.bytes;
    const externalData = [
      ...files.dataFiles.map((f) => ({ path: f.location, data: f.bytes })),
      ...(slim ? [{ path: SELF_LOCATION, data: files.bytes }] : []),
    ];
    files = undefined;
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [request.backend === 'webgpu' ? { name: 'webgpu' } : { name: 'wasm' }],
      graphOptimizationLevel: 'all',
      ...(externalData.length > 0 ? { externalData } : {}),
      ...(graphCapture || keepOutputsOnGpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      ...(graphCapture ? { enableGraphCapture: true } : {}),
    });
    markStartup('session-ready', request.source.id);
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
  // A multi-file model loads its original: a copy would need its own set of data files.
  if (request.backend !== 'wasm' || !optimized || optimized.onnxruntime !== ortVersion || request.source.externalData?.length)
    return undefined;
  const { url, sha256, bytes } = optimized;
  return { ...request, source: { ...request.source, url, sha256, bytes } };
}

async function run(key: string, feeds: Feeds, warmup = false): Promise<RunResult> {
  const entry = sessions.get(key);
  if (!entry || !ort) {
    return { ok: false, error: new OnDeviceError('DISPOSED', 'This model was disposed or never loaded in this worker').toJSON() };
  }
  if (deviceLostReason) return lostResult(feeds);
  entry.runs++;
  // A warm-up run may hold the session: wait for that one (its failure is not ours); no other starts meanwhile.
  await entry.warmup.enterCall();
  let result: RunResult | undefined;
  try {
    result = await runNow(entry, feeds);
    return result;
  } finally {
    // A passed call's feeds are still here (only a lost device hands them back); the page's warm-up runs are no calls.
    if (result?.ok && !warmup) entry.warmup.leaveCall(feeds, result.ms);
    else entry.warmup.leaveCall();
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
    const value = { ok: true as const, value: results, ms };
    return Comlink.transfer(value, transferablesOf(results));
  } catch (error) {
    if (deviceLostReason) return lostResult(feeds);
    return fail(error, 'INFERENCE_FAILED', 'Inference failed');
  }
}

// Warm-up runs are expected to fail for some models (a generated sample that does not suit them);
// onnxruntime would print each kernel error on the page's console. 4 = fatal only.
const QUIET: InferenceSession.RunOptions = { logSeverityLevel: 4 };

/** A warm-up run: once on `feeds`, the outputs dropped; no kernel error reaches the console. */
async function runQuietly(session: InferenceSession, inputsOnGpu: InputsOnGpu, feeds: Feeds): Promise<void> {
  try {
    const out = await session.run(await ortFeedsOf(inputsOnGpu, feeds), QUIET);
    for (const t of Object.values(out)) t.dispose();
  } catch (error) {
    destroyGpuFeeds(inputsOnGpu.held);
    inputsOnGpu.held = undefined;
    throw error;
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
  const t0 = performance.now();
  let current: Record<string, OrtTensor> | undefined;
  try {
    for (const entry of chain) await entry.warmup.enterCall();
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
    for (const entry of chain) entry.warmup.leaveCall();
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
  if (entry) await releaseEntry(entry);
  // The page terminates a worker once this resolves for its last model: a new version of a stored model still
  // downloading in the background (loadThroughStore) finishes first, instead of starting over on every visit.
  if (sessions.size === 0) await backgroundUpdates();
}

/** Stop the entry's warm-up (waiting for its run in flight and its memory writes) and free the session. */
async function releaseEntry(entry: Entry): Promise<void> {
  entry.warmup.stop();
  releaseCallback(entry.onWarmedUp);
  entry.onWarmedUp = undefined;
  await entry.warmup.settled();
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
    const { id, key, feeds, warmup } = event.data;
    void run(key, feeds, warmup)
      .catch((error: unknown): RunResult => fail(error, 'INFERENCE_FAILED', 'Inference failed'))
      .then((result) => {
        const buffers = result.ok ? transferablesOf(result.value) : result.feeds ? transferablesOf(result.feeds) : [];
        port.postMessage({ id, result } satisfies RunPortReply, buffers);
      });
  };
}

async function headRound(key: string, request: HeadRoundRequest): Promise<Result<HeadRoundResult>> {
  const entry = sessions.get(key);
  if (!entry || !ort) {
    return { ok: false, error: new OnDeviceError('DISPOSED', 'This model was disposed or never loaded in this worker').toJSON() };
  }
  // A warm-up run may hold the session: wait for it; no other starts meanwhile.
  await entry.warmup.enterCall();
  try {
    const value = await runHeadRound(ort, entry.session, request);
    const transfer = value.train ? [value.train.dW.buffer, value.train.db.buffer] : [];
    return Comlink.transfer({ ok: true as const, value }, transfer);
  } catch (error) {
    return fail(error, 'INFERENCE_FAILED', 'The federated round failed');
  } finally {
    entry.warmup.leaveCall(undefined, undefined);
  }
}

/** The runtime worker's API (src/core/protocol.ts). */
export const runtimeApi: RuntimeWorkerApi = {
  init,
  async startRuntime(module) {
    offerRuntimeModule(module);
  },
  prefetch,
  load,
  abortLoad,
  run,
  openRunPort,
  runChain,
  release,
  memory,
  headRound,
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
  /** Whether onnxruntime's wasm was instantiated from the module the page compiled (src/client/compileRuntime.ts). */
  runtimeFromPage: () => runtimeFromPage,
  runsOf: (key: string): number | undefined => sessions.get(key)?.runs,
  warmupOf: (key: string): ReturnType<SessionWarmup['state']> | undefined => sessions.get(key)?.warmup.state(),
};
