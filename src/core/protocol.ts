// Types-only protocol between the main thread (src/client) and the runtime worker (src/runtime).
// Nothing here may import onnxruntime-web: the main-thread bundle must stay free of it.
import type { SerializedError } from './OnDeviceError';
import type { SampleHint } from './schema/SampleHint';
import type { TensorSpec } from './schema/TensorSpec';

/**
 * The typed array that carries each element type. float16 travels as its raw bits (Uint16Array);
 * bool as 0/1 bytes; int64/uint64 as BigInt arrays (no precision lost); string as a plain array.
 */
export interface TensorArrayOf {
  float32: Float32Array;
  float16: Uint16Array;
  float64: Float64Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  string: string[];
}

export type ElementType = keyof TensorArrayOf;

export type TensorArray = TensorArrayOf[ElementType];

/**
 * A tensor as plain data, so it crosses the worker boundary. `Tensor<'int64'>` is exactly
 * `{ type: 'int64'; data: BigInt64Array; dims: number[] }`; `Tensor` (any element type) is the
 * discriminated union of all of them, so checking `type` narrows `data`.
 *
 * @example
 * const x: Tensor<'float32'> = { type: 'float32', data: new Float32Array(16), dims: [1, 16] };
 * if (out.y.type === 'int64') Array.from(out.y.data, Number); // data is BigInt64Array here
 */
export type Tensor<T extends ElementType = ElementType> = T extends ElementType
  ? { type: T; data: TensorArrayOf[T]; dims: number[] }
  : never;

/** Any tensor: the union of `Tensor<T>` over every element type. */
export type TensorData = Tensor;

export type Feeds = Record<string, TensorData>;

/** Element types by tensor name, to type a model's inputs or outputs: `{ x: 'float32'; sr: 'int64' }`. */
export type TensorTypes = Record<string, ElementType>;

/** Feeds (or results) for tensors named and typed by `T`: `TensorsOf<{ x: 'float32' }>` is `{ x: Tensor<'float32'> }`. */
export type TensorsOf<T extends TensorTypes> = { [K in keyof T]: Tensor<T[K]> };

export type Backend = 'webgpu' | 'wasm';
export type BackendPreference = 'auto' | Backend;

/** Which onnxruntime-web bundle a worker loads: one per worker, decided at its first session. */
export interface WorkerConfig {
  bundle: Backend;
  /** WASM threads; fixed for the worker's lifetime (onnxruntime-web decides it at first session). */
  threads: number;
  /** Absolute URL of the folder holding onnxruntime-web's `.mjs`/`.wasm` files (ends with `/`). */
  ortBaseUrl: string;
}

export interface ModelSource {
  /** Absolute URL of the model bytes. */
  url: string;
  id: string;
  version?: string;
  sha256?: string;
  bytes?: number;
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
  /** Concrete dims/values for warm-up and smoke runs of models with symbolic dims. */
  sample?: SampleHint;
  /** What the server's release manifest says about this model (src/client/resolveRelease.ts), for the model store. */
  release?: ReleaseHint;
  /**
   * A pre-optimised copy for the WASM backend (registry `optimized`): loaded instead of `url` when the worker's
   * onnxruntime-web version is `onnxruntime`, verified against its own `sha256`.
   */
  optimized?: OptimizedSource;
  /**
   * The external data files of a multi-file model as its registry entry or release lists them: the model may
   * name no other file. Absent for a model loaded by URL: the worker reads the locations from the ONNX file and
   * fetches each beside it (or where `dataFiles` says).
   */
  externalData?: DataFileSource[];
  /** For a model loaded by URL: per location, the data file's URL and/or expected sha256 (`loadModel(url, { dataFiles })`). */
  dataFiles?: Record<string, DataFileOverride>;
  /** The ONNX file plus every data file, in bytes, when known (registry `totalBytes`). */
  totalBytes?: number;
}

/** One external data file of a model (registry `externalData`). */
export interface DataFileSource {
  /** The name the model's tensors give the file (`model.onnx_data`, `onnx::MatMul_12`). */
  location: string;
  /** Absolute URL of the file. */
  url: string;
  sha256?: string;
  bytes?: number;
}

/** `loadModel(url, { dataFiles: { [location]: { url?, sha256? } } })`: where one data file is, and what to verify. */
export interface DataFileOverride {
  /** The file's URL (absolute, or relative to the page); default: the location beside the model's URL. */
  url?: string;
  /** Expected lower-case hex sha256: a file that does not match fails with INTEGRITY_MISMATCH, nothing stored or run. */
  sha256?: string;
}

/** Where a model's pre-optimised copy lives and what to verify (src/registry `optimized`). */
export interface OptimizedSource {
  /** Absolute URL of the optimised bytes. */
  url: string;
  sha256: string;
  bytes: number;
  /** The onnxruntime version that wrote it. */
  onnxruntime: string;
}

/** Release state the model store acts on (src/cache/loadThroughStore.ts). */
export interface ReleaseHint {
  /** The stable version: kept stored while this install runs a candidate, so a rollback works offline. */
  stable?: string;
  /** Versions the server rolled back: never stand in for the requested one, and are purged from the store. */
  rolledBack?: string[];
  /** Load exactly the requested version, waiting for its download, never an older stored one (`model.update()`). */
  exact?: boolean;
}

export interface LoadRequest {
  /** Unique per loaded model instance. */
  key: string;
  source: ModelSource;
  backend: Backend;
  /** false: none; true: runs on generated sample inputs; Feeds: runs on these inputs. */
  warmup: boolean | Feeds;
  /** Storage options forwarded to the model store (undefined: network only). */
  store?: StoreOptions;
  /** A download that sends no bytes for this long fails with TIMEOUT (default 30 s). */
  stallTimeoutMs?: number;
  /** WebGPU session options; ignored on WASM. */
  webgpu?: WebGpuOptions;
}

/** WebGPU session options (`loadModel(…, { webgpu })`); ignored on WASM. */
export interface WebGpuOptions {
  /**
   * Outputs stay in GPU buffers (onnxruntime's `preferredOutputLocation: 'gpu-buffer'`): `model.runThen`
   * hands them to the next model without a round trip through the CPU; a plain `run` downloads them once.
   */
  keepOutputsOnGpu?: boolean;
  /**
   * Record the GPU commands of the first run and replay them afterwards (onnxruntime's
   * `enableGraphCapture`): less CPU work per run for models whose ops all run on WebGPU. Every run must
   * then have the first run's input dims, and the first run is the warm-up (on WebGPU there always is
   * one), so pass `warmup: feeds` with your real dims. Implies `keepOutputsOnGpu`.
   */
  graphCapture?: boolean;
}

export interface StoreOptions {
  enabled: boolean;
  /** Test and integrator budget in bytes; undefined uses the browser's quota estimate. */
  budgetBytes?: number;
}

/**
 * How far a load is, over every file of the model (the ONNX file and its external data files). Reported at
 * most every 64 KiB and 50 ms, and once at the end of each file.
 */
export interface Progress {
  /** Bytes received (or read from the store) so far, over the whole set. */
  loaded: number;
  /**
   * Bytes of the whole set. While some file's size is unknown (a gzip'd response without a usable length, a
   * file not yet asked for) this is the sum of the sizes known so far, and `lengthComputable` is false.
   */
  total: number;
  /** Whether `total` is the final size of the set (then `loaded / total` is a fraction). */
  lengthComputable: boolean;
  /** The external data file being fetched or read (its location); absent for the ONNX file and for single-file models. */
  file?: string;
  /** Whether these bytes come from the model store. */
  fromCache?: boolean;
}

export interface LoadInfo {
  backend: Backend;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Bytes of the whole model: the ONNX file plus its external data files. */
  bytes: number;
  /** The external data files the session was given (location and bytes); absent for a single-file model. */
  dataFiles?: { location: string; bytes: number }[];
  fromCache: boolean;
  /** Milliseconds: fetch (or store read), session creation, and the warm-up `loadModel` waited for (its smoke run). */
  timings: { fetchMs: number; sessionMs: number; warmupMs: number };
  /**
   * Whether the warm-up finished. It continues in the worker after `loadModel` resolved, between calls, and
   * turns true with the model's `warmedup` event. Stays false when warm-up is off, and until the first real
   * call when the warm-up inputs did not suit the model (it is then warmed on that call's inputs).
   */
  warmedUp?: boolean;
  threads: number;
  /** Why `threads` is fewer than asked for (e.g. the page is not cross-origin isolated); absent when it is not. */
  threadsReason?: string;
  /** Adapter information when running on WebGPU. */
  adapter?: { vendor: string; architecture: string; device: string; description: string };
  // --- model store (src/cache) ---
  /** The model loaded but could not be stored for offline use (QUOTA_EXCEEDED, NOT_SUPPORTED). */
  storeWarning?: SerializedError;
  /** The version actually loaded: an older stored version stands in while a newer one downloads in the background. */
  version?: string;
  /** true when the session was created from the model's pre-optimised copy (registry `optimized`, WASM only). */
  optimized?: boolean;
  /** Why the model's pre-optimised copy could not be used (fetch, sha256 or session failed): the original was loaded. */
  optimizedError?: SerializedError;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/**
 * What a warm-up ran on: the caller's `warmup` feeds, the input dims of an earlier load's first calls
 * (remembered per model version), the registry's sample or generated inputs, or the inputs of the first call (when
 * those did not suit the model, or the calls had other dims than those).
 */
export type WarmupInputs = 'caller' | 'remembered' | 'sample' | 'first-call';

/**
 * The worker's report when a model's warm-up finished (its runs were steady, or its 1.5 s of runs were
 * spent): the page then sets `info.warmedUp` and fires `warmedup`. The warm-up continues in the worker
 * after `loadModel` resolved, between calls.
 */
export interface WarmupReport {
  /** Warm-up runs that passed, the smoke run included (and calls of the same dims, which warm the same code). */
  runs: number;
  /** Their total time inside the worker (ms). */
  ms: number;
  on: WarmupInputs;
  /** The input dims it warmed on. */
  dims: Record<string, number[]>;
  /** Constant fills of generated inputs: with `dims`, `sampleFeeds` rebuilds them (the page's own warm-up runs). */
  fill?: Record<string, number>;
  /** The last warm-up run inside the worker (ms). */
  lastRunMs: number;
}

/** A failed run hands its feeds back (transferred) so the caller can retry elsewhere, e.g. after a device loss. */
export type RunResult = { ok: true; value: Feeds; ms: number } | { ok: false; error: SerializedError; feeds?: Feeds };

/**
 * `run` without comlink: the page sends these on the MessagePort it handed over with `openRunPort`, and
 * the worker answers each with the `RunResult` of `run(key, feeds)` under the same id, buffers transferred.
 * A run is the one call made per inference; comlink's proxy, ids and wire wrapping cost 20–35 µs of it.
 */
export interface RunPortRequest {
  id: number;
  key: string;
  feeds: Feeds;
  /** The page's own warm-up run (after the worker's warm-up): not a call, so its dims are not remembered. */
  warmup?: true;
}
export interface RunPortReply {
  id: number;
  result: RunResult;
}

export interface WorkerMemory {
  /** Bytes of the wasm heap (grows, never shrinks). */
  wasmHeapBytes: number;
  /** performance.memory / measureUserAgentSpecificMemory where available; else 0. */
  jsHeapBytes: number;
  sessions: number;
}

/** The runtime worker's API, exposed with comlink. Every method resolves; failures are values. */
/**
 * Federated fine-tuning: one round's work on this device's labelled examples, in the worker that holds the
 * model's features variant (src/runtime/headRound.ts). The model runs on every example for `features` and the
 * head's `output`; the head is then trained (train) or scored (evaluate) in plain JS — no training runtime.
 */
export interface HeadRoundRequest {
  kind: 'train' | 'evaluate';
  /** The variant's output holding the features `[N, F]`. */
  features: string;
  /** The variant's original head output (the current version's prediction: arg-max over its last axis). */
  output: string;
  /** The round's head: `weight` is `[featureCount, classes]` row-major. */
  head: { weight: Float32Array; bias: Float32Array; featureCount: number; classes: number };
  /** Each example's inputs (one row each), its class index, and whether it is held back from training. */
  examples: { feeds: Feeds; label: number; heldBack: boolean }[];
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
}

export interface HeadRoundResult {
  /** train only: the trained head minus the round's, and the examples it was trained on. */
  train?: { dW: Float32Array; db: Float32Array; examples: number; lossBefore: number };
  /** On the held-back examples: how many the round's head and the current version (the model's own output) get right. */
  heldBack: { examples: number; correctRoundHead: number; correctCurrent: number };
}

export interface RuntimeWorkerApi {
  init(config: WorkerConfig): Promise<Result<{ threads: number; crossOriginIsolated: boolean }>>;
  /**
   * Start onnxruntime's wasm runtime (sessions wait for it): from `module` when the page compiled the wasm
   * (src/client/compileRuntime.ts), else from its own fetch. Called once, right after `init`.
   */
  startRuntime(module?: WebAssembly.Module): Promise<void>;
  /**
   * Create the session and, unless `warmup` is false, smoke-run it once; resolves then. The rest of the warm-up
   * continues between calls, and `onWarmedUp` is called once when it finished (never when it was off or failed).
   */
  load(request: LoadRequest, onProgress?: (p: Progress) => void, onWarmedUp?: (report: WarmupReport) => void): Promise<Result<LoadInfo>>;
  /**
   * `preload`: fetch and verify the bytes a load of `request` would use into the model store, and wait for the
   * runtime; no session. Resolves with their size and whether they were stored already.
   */
  prefetch(request: LoadRequest): Promise<Result<{ bytes: number; fromCache: boolean }>>;
  /** Stop the load of `key` where it is (download, session creation, warm-up); its `load` resolves ABORTED. */
  abortLoad(key: string): Promise<void>;
  /** `warmup`: the page's own warm-up run, not a call (its dims are not remembered as a call's). */
  run(key: string, feeds: Feeds, warmup?: boolean): Promise<RunResult>;
  /** Take the port the page sends `RunPortRequest`s on (the fast path of `run`). */
  openRunPort(port: MessagePort): Promise<void>;
  /**
   * Run `keys[0]` on `feeds`, then each next model on the previous one's outputs (by input name, or in
   * order when the names differ), all in this worker: only the last model's outputs come back.
   */
  runChain(keys: string[], feeds: Feeds): Promise<RunResult>;
  /**
   * Free the session of `key` and forget its device-loss callback. For the worker's last session it resolves once
   * the model store's background downloads of new versions are done (the page then terminates the worker).
   */
  release(key: string): Promise<void>;
  memory(): Promise<WorkerMemory>;
  /** Registers the model `key`'s callback for device loss; called once with the reason, dropped on release. */
  onDeviceLost(key: string, callback: (reason: string) => void): Promise<void>;
  /** Federated fine-tuning: a round's work with the features variant loaded as `key` (HeadRoundRequest). */
  headRound(key: string, request: HeadRoundRequest): Promise<Result<HeadRoundResult>>;
}
