import * as Comlink from 'comlink';
import type { Backend, Feeds, LoadInfo, ModelSource, TensorTypes, TensorsOf, WarmupInputs, WarmupReport } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleFeeds } from '../core/sampleFeeds';
import { transferablesOf } from '../core/transferablesOf';
import { newId } from '../telemetry/newId';
import { emitLifecycle, lifecycleObserved } from '../core/lifecycle';
import { loadOnBackend, type LoadedOnBackend, type LoadSettings } from './loadOnBackend';
import { OnDeviceError, deserializeError } from '../core/OnDeviceError';
import { validateFeeds } from '../core/validateFeeds';
import type { WorkerHandle } from './WorkerHandle';
import { releaseFromWorker } from './workerPool';
import { runBatch, type BatchResult, type RunBatchOptions } from './runBatch';
import type { ServerSession } from './ServerSession';

/** Where a model runs: `'webgpu'` or `'wasm'` on the device, `'server'` on the inference server (`/v2`). */
export type ModelBackend = Backend | 'server';

/** `'device'` (a worker in this page) or `'server'` (the `/v2` inference server). */
export type ModelLocation = 'device' | 'server';

/** `model.info`: the device's load details, or on the server `backend: 'server'`, `threads: 0` and the metadata request as `fetchMs`. */
export type ModelInfo<B extends ModelBackend = ModelBackend> = Omit<LoadInfo, 'backend'> & { backend: B };

/** `event.detail` of a model's `warmedup` event: what the warm-up ran, and on what. */
export interface WarmedUpDetail {
  /** Runs that passed inside the worker: the smoke run `loadModel` waited for, the background runs, and calls of the same dims. */
  runs: number;
  /** Their total time inside the worker (ms). */
  ms: number;
  /**
   * What it ran on: `'caller'` (your `warmup` feeds), `'remembered'` (the input dims of an earlier load's first
   * calls), `'sample'` (the registry's sample, or generated inputs), `'first-call'` (your first call's inputs,
   * when the others did not suit the model).
   */
  on: WarmupInputs;
  /** The input dims it warmed on. */
  dims: Record<string, number[]>;
}

/** A model's events (`model.addEventListener(type, listener)`). */
export interface ModelEventMap {
  /** The WebGPU device was lost; the model was rebuilt on WASM (`detail.reason`, `model.fallbackReason`). */
  backendlost: CustomEvent<{ reason: string }>;
  /**
   * The warm-up finished: the runs in the worker were steady (or their 1.5 s budget was spent), and
   * `info.warmedUp` is now true. It continues after `loadModel` resolved, between calls; never fires with
   * `warmup: false`.
   */
  warmedup: CustomEvent<WarmedUpDetail>;
}

/**
 * What `warmRealPath` may add: runs through the real path while they fit in this many ms
 * (at most REAL_PATH_MAX_RUNS), and none for a model whose run alone takes more than half of it.
 */
const REAL_PATH_BUDGET_MS = 5;
const REAL_PATH_MAX_RUNS = 20;

/** Most items a server-backed model's `runBatch` sends at once by default (browsers allow 6 connections per host). */
const SERVER_BATCH_CONCURRENCY = 4;

export interface RunOptions {
  signal?: AbortSignal;
  /**
   * Transfer the input buffers to the worker instead of copying them (default true). Your typed
   * arrays are detached afterwards; pass `false` to keep using them.
   */
  transfer?: boolean;
  /** An id for this prediction, to match later `reportFeedback` ground truth. Default: a new id. */
  predictionId?: string;
}

/**
 * A loaded model. Inference runs in a worker; calls are queued (a session is not re-entrant).
 *
 * `In` and `Out` optionally name the model's inputs and outputs with their element types, so feeds
 * and results are checked at compile time (`loadModel<In, Out>(…)`); by default any name and any
 * tensor type-checks, and `run` checks feeds against the model at run time either way.
 *
 * @example
 * const model = await loadModel('ppocr-v4-det')
 * const { sigmoid_0_tmp_0 } = await model.run({ x: { type: 'float32', data, dims: [1, 3, 320, 320] } })
 *
 * const vad = await loadModel<{ input: 'float32'; state: 'float32'; sr: 'int64' }, { output: 'float32'; stateN: 'float32' }>('silero-vad-v5')
 * const { output } = await vad.run(feeds) // output.data is a Float32Array
 */
export class Model<
  In extends TensorTypes = TensorTypes,
  Out extends TensorTypes = TensorTypes,
  /** `ModelBackend` for models loaded with `fallback: 'server'` or `location: 'server'`; on the device only otherwise. */
  B extends ModelBackend = Backend,
> extends EventTarget {
  readonly id: string;
  readonly version: string | undefined;
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** The backend the model actually runs on (`'server'` when `location` is `'server'`). */
  backend: B;
  /** `'device'`, or `'server'` when it runs on the inference server (`fallback: 'server'`, `location: 'server'`). */
  readonly location: ModelLocation;
  /** Why `auto` did not pick WebGPU (or why the model moved off it, or off the device), when it did not. */
  fallbackReason: string | undefined;
  /** The prediction id of the last completed run (for `reportFeedback`). */
  lastPredictionId: string | undefined;
  /** Load details: bytes, from cache, timings, threads. */
  info: ModelInfo<B>;

  // Unset when location is 'server': every device path starts after the `server` check.
  private handle!: WorkerHandle;
  private key!: string;
  private readonly server: ServerSession | undefined;
  /** runBatch's extra sessions, each in a dedicated worker; undefined where one could not be loaded. */
  private replicas: Promise<{ handle: WorkerHandle; key: string } | undefined>[] = [];
  private disposed = false;
  /** Calls made through `run` (the page's own warm-up runs are not calls). */
  private calls = 0;
  private tail: Promise<unknown> = Promise.resolve();
  private crashEpoch = 0;
  private reloading: Promise<void> | undefined;
  private readonly source: ModelSource;
  private readonly settings: LoadSettings;
  private readonly resolveUpdate: ((signal?: AbortSignal) => Promise<ModelSource>) | undefined;

  /** @internal */
  constructor(
    loaded: (LoadedOnBackend & { fallbackReason?: string }) | { server: ServerSession; info: ModelInfo<'server'>; fallbackReason: string },
    source: ModelSource,
    settings: LoadSettings,
    resolveUpdate?: (signal?: AbortSignal) => Promise<ModelSource>,
  ) {
    super();
    this.id = source.id;
    // The version actually served: an older stored one stands in while the assigned one downloads.
    this.version = loaded.info.version ?? source.version;
    this.source = source;
    this.settings = settings;
    this.resolveUpdate = resolveUpdate;
    this.inputs = loaded.info.inputs;
    this.outputs = loaded.info.outputs;
    // B is what the load options allowed; the value is what actually loaded.
    this.info = loaded.info as ModelInfo<B>;
    this.backend = loaded.info.backend as B;
    this.fallbackReason = loaded.fallbackReason;
    if ('server' in loaded) {
      this.server = loaded.server;
      this.location = 'server';
      return;
    }
    this.location = 'device';
    this.handle = loaded.handle;
    this.key = loaded.key;
    this.watch(loaded.handle);
    this.followWarmup(loaded);
  }

  override addEventListener<K extends keyof ModelEventMap>(
    type: K,
    listener: (this: Model<In, Out, B>, event: ModelEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: unknown, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  override removeEventListener<K extends keyof ModelEventMap>(
    type: K,
    listener: (this: Model<In, Out, B>, event: ModelEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(type: string, listener: unknown, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /** Run the model. Feeds are `{ type, data, dims }` per input; results come back the same way. */
  run(feeds: TensorsOf<In>, options: RunOptions = {}): Promise<TensorsOf<Out>> {
    return this.runOnce(feeds, options, true);
  }

  /** `run`; `report` false: a load-time warm-up run (`warmRealPath`), neither an inference nor an error event. */
  private async runOnce(feeds: TensorsOf<In>, options: RunOptions, report: boolean): Promise<TensorsOf<Out>> {
    if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed; load it again to run it`);
    validateFeeds(feeds, this.inputs, this.id);
    const { signal, transfer = true } = options;
    const predictionId = options.predictionId ?? newId();
    if (signal?.aborted) throw new OnDeviceError('ABORTED', 'The run was aborted before it started');
    if (report) this.calls++;
    // The server is stateless: calls overlap instead of queueing.
    if (this.server) return (await this.runOnServer(this.server, feeds, predictionId, signal)) as TensorsOf<Out>;
    const epoch = this.crashEpoch;
    return this.enqueue(
      async () => {
        if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed while this call was queued`);
        if (epoch !== this.crashEpoch) {
          throw new OnDeviceError(
            'WORKER_CRASHED',
            `The worker running ${this.id} crashed while this call was queued; call again to reload`,
          );
        }
        const outputs = await this.dispatch(feeds, transfer, report ? predictionId : undefined);
        if (report) this.lastPredictionId = predictionId;
        // Out is the caller's description of this model's outputs; the worker returns what the session made.
        return outputs as TensorsOf<Out>;
      },
      signal,
      report,
    );
  }

  /**
   * Run this model, then `next` on its outputs (matched by input name, else in order), inside the worker
   * both models share; only `next`'s outputs come back. Load this model with
   * `webgpu: { keepOutputsOnGpu: true }` and on WebGPU its outputs never leave the GPU between the two.
   * Both must run on the device in the same worker (same backend and threads, not `dedicated`). Chained
   * runs are not reported as inference events.
   *
   * @example
   * const encoder = await loadModel('encoder', { backend: 'webgpu', webgpu: { keepOutputsOnGpu: true } });
   * const decoder = await loadModel('decoder', { backend: 'webgpu' });
   * const { logits } = await encoder.runThen(decoder, { x });
   */
  async runThen<NextOut extends TensorTypes = TensorTypes>(
    next: Model<TensorTypes, NextOut, ModelBackend>,
    feeds: TensorsOf<In>,
    options: Omit<RunOptions, 'predictionId'> = {},
  ): Promise<TensorsOf<NextOut>> {
    for (const model of [this, next] as Model[]) {
      if (model.disposed) throw new OnDeviceError('DISPOSED', `${model.id} was disposed; load it again to run it`);
    }
    const sameWorker = () => !this.server && !next.server && this.handle === next.handle && this.handle.alive;
    if (!sameWorker()) {
      throw new OnDeviceError(
        'INVALID_INPUT',
        `${this.id} and ${next.id} run in different workers; load both on the device, same backend and threads`,
      );
    }
    validateFeeds(feeds, this.inputs, this.id);
    const { signal, transfer = true } = options;
    if (signal?.aborted) throw new OnDeviceError('ABORTED', 'The run was aborted before it started');
    // Both models' turns, always taken in the same order (by key) so two opposite chains cannot deadlock.
    const [first, second] = (this.key < next.key ? [this, next] : [next, this]) as Model[];
    return first.enqueue(
      () =>
        second.enqueue(async () => {
          if (this.disposed || next.disposed)
            throw new OnDeviceError('DISPOSED', 'A model of this chain was disposed while the call was queued');
          if (!sameWorker()) {
            throw new OnDeviceError(
              'WORKER_CRASHED',
              `The worker of ${this.id} and ${next.id} changed while this call was queued; call again`,
            );
          }
          const payload = transfer ? Comlink.transfer(feeds, transferablesOf(feeds)) : feeds;
          const result = await this.handle.call((api) => api.runChain([this.key, next.key], payload));
          if (!result.ok) throw deserializeError(result.error);
          return result.value as TensorsOf<NextOut>;
        }, signal),
      signal,
    );
  }

  /**
   * Follow the release server now: ask it again which version this install is assigned and, when that is
   * not the version this model runs, load it (waiting for its download and verification) and resolve to a
   * new `Model` on it. This model stays usable until you dispose it. Resolves to this same model when the
   * assignment is unchanged, or when there is nothing to follow (loaded by URL or entry, no release server).
   *
   * @example
   * const next = await model.update();
   * if (next !== model) { model.dispose(); model = next; }
   */
  async update(options: { signal?: AbortSignal } = {}): Promise<Model<In, Out, B>> {
    if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed; load it again to update it`);
    if (!this.resolveUpdate || this.location === 'server') return this;
    const source = await this.resolveUpdate(options.signal);
    if (source.version === this.version && source.url === this.source.url) return this;
    const started = performance.now();
    const settings: LoadSettings = { ...this.settings, signal: options.signal, onProgress: undefined };
    // A model on the server returned above, so this one runs on the device.
    let backend = this.backend as Backend;
    let loaded;
    try {
      loaded = await loadOnBackend(source, backend, settings);
    } catch (error) {
      if (backend !== 'webgpu' || (error instanceof OnDeviceError && error.code === 'ABORTED')) throw error;
      backend = 'wasm';
      loaded = await loadOnBackend(source, backend, settings);
    }
    const next = new Model<In, Out, B>(loaded, source, { ...this.settings }, this.resolveUpdate);
    emitLifecycle({
      type: 'model_load',
      modelId: next.id,
      modelVersion: next.version,
      info: loaded.info,
      ms: performance.now() - started,
      report: this.settings.telemetry,
    });
    return next;
  }

  /**
   * Run many inputs, several at a time: on the device over a pool of workers that each hold the session
   * (as many as the cores allow at the model's thread count; the extra ones start on the first call and
   * stay until `dispose`), on the server as parallel requests. Resolves in input order with
   * `{ ok: true, outputs }` or `{ ok: false, error }` per item: one failing item never stops the rest.
   *
   * @example
   * const results = await model.runBatch(pages.map(toFeeds), { onProgress: ({ done, total }) => (bar.value = done / total) })
   * for (const r of results) if (!r.ok) console.warn(r.error.code)
   */
  async runBatch(items: TensorsOf<In>[], options: RunBatchOptions = {}): Promise<BatchResult<TensorsOf<Out>>[]> {
    if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed; load it again to run it`);
    if (!Array.isArray(items)) throw new OnDeviceError('INVALID_INPUT', 'runBatch(items): items must be an array of feeds');
    const { concurrency, signal, transfer = true } = options;
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new OnDeviceError('INVALID_INPUT', `concurrency must be a positive integer, got ${String(concurrency)}`);
    }
    const run = (feeds: TensorsOf<In>) => this.run(feeds, { signal, transfer });
    if (this.server) return runBatch(items, concurrency ?? SERVER_BATCH_CONCURRENCY, run, options);
    const most = this.mostParallelRuns();
    const lanes = Math.min(concurrency ?? most, most, items.length);
    return runBatch(
      items,
      lanes,
      (feeds, lane) => (lane === 0 ? run(feeds) : this.runOnReplica(lane - 1, feeds, signal, transfer)),
      options,
    );
  }

  /**
   * When the worker's warm-up of `loaded` finished: the page's own warm-up runs (`warmRealPath`), then
   * `info.warmedUp` and the `warmedup` event — unless the model was disposed or moved to another session meanwhile.
   */
  private followWarmup(loaded: LoadedOnBackend): void {
    const current = () => !this.disposed && this.key === loaded.key;
    // Never rejects: a warm-up that does not finish simply never reports.
    void loaded.warmedUp.then(async (report) => {
      if (!current()) return;
      await this.warmRealPath(report);
      if (!current()) return;
      this.info.warmedUp = true;
      const { runs, ms, on, dims } = report;
      this.dispatchEvent(new CustomEvent<WarmedUpDetail>('warmedup', { detail: { runs, ms, on, dims } }));
    });
  }

  /**
   * The warm-up's inputs once or twice more through the real path (this class, the run port, the worker's
   * `run`, the outputs' copy and transfer), which the worker's own warm-up does not take, so that the first
   * call finds that code compiled — unless calls already took it. Not reported as inference; results and
   * failures are dropped. A call made meanwhile waits for one such run (at most REAL_PATH_BUDGET_MS / 2).
   */
  private async warmRealPath(report: WarmupReport): Promise<void> {
    if (this.server || this.disposed || this.calls > 0 || report.on === 'first-call' || report.lastRunMs > REAL_PATH_BUDGET_MS / 2) return;
    const callerFeeds = report.on === 'caller' && typeof this.settings.warmup === 'object' ? this.settings.warmup : undefined;
    const started = performance.now();
    // Enough runs for the path's functions to be compiled past the interpreter, within the budget. The
    // first is the slow one (cold code); the next ones take about the worker's warm run plus the trip.
    for (let i = 0; i < REAL_PATH_MAX_RUNS && performance.now() - started + report.lastRunMs <= REAL_PATH_BUDGET_MS; i++) {
      if (this.calls > 0) return;
      // The caller's feeds are theirs: copied, never transferred.
      const feeds = callerFeeds ?? sampleFeeds(this.inputs, report);
      const ok = await this.runOnce(feeds as TensorsOf<In>, { transfer: !callerFeeds }, false).then(
        () => true,
        () => false,
      );
      if (!ok) return;
    }
  }

  /** Free the session (and its GPU buffers). Pending calls reject with DISPOSED. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const replica of this.replicas) void replica.then((r) => r && releaseFromWorker(r.handle, r.key));
    this.replicas = [];
    if (!this.server) releaseFromWorker(this.handle, this.key);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal for the test-only entry (src/testing.ts): the worker hosting this model and its key there. */
  get workerBinding(): { handle: WorkerHandle; key: string } {
    return { handle: this.handle, key: this.key };
  }

  private async runOnServer(server: ServerSession, feeds: Feeds, predictionId: string, signal: AbortSignal | undefined): Promise<Feeds> {
    try {
      // The prediction id is the request id: the server's inference record carries it, so feedback still joins.
      const { outputs } = await server.run(feeds, { predictionId, signal });
      if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed while this call ran`);
      this.lastPredictionId = predictionId;
      return outputs;
    } catch (error) {
      if (error instanceof OnDeviceError)
        emitLifecycle({ type: 'error', modelId: this.id, modelVersion: this.version, error, report: this.settings.telemetry });
      throw error;
    }
  }

  /**
   * How many sessions of this model may run at once without oversubscribing the cores: every WASM
   * session uses `info.threads` threads. WebGPU runs on one device, so parallel sessions gain nothing there.
   */
  private mostParallelRuns(): number {
    if (this.backend !== 'wasm') return 1;
    const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
    return Math.max(1, Math.floor(cores / Math.max(1, this.info.threads)));
  }

  /** An item on runBatch's extra session `index`; on the model's own worker when that session could not be loaded or died. */
  private async runOnReplica(
    index: number,
    feeds: TensorsOf<In>,
    signal: AbortSignal | undefined,
    transfer: boolean,
  ): Promise<TensorsOf<Out>> {
    this.replicas[index] ??= loadOnBackend(
      this.source,
      'wasm',
      { ...this.settings, warmup: false, onProgress: undefined, signal: undefined },
      { dedicated: true },
    )
      .then((loaded) => {
        if (!this.disposed) return loaded;
        releaseFromWorker(loaded.handle, loaded.key);
        return undefined;
      })
      .catch(() => undefined);
    const replica = await this.replicas[index];
    if (!replica?.handle.alive) return this.run(feeds, { signal, transfer });
    if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed; load it again to run it`);
    validateFeeds(feeds, this.inputs, this.id);
    if (signal?.aborted) throw new OnDeviceError('ABORTED', 'The run was aborted before it started');
    const predictionId = newId();
    const inputDims = lifecycleObserved() ? dimsOf(feeds) : {};
    const result = await untilAborted(replica.handle.run(replica.key, feeds, transfer), signal);
    if (!result.ok) {
      const error = deserializeError(result.error);
      emitLifecycle({ type: 'error', modelId: this.id, modelVersion: this.version, error, report: this.settings.telemetry });
      throw error;
    }
    this.reportInference(predictionId, 'wasm', result, inputDims);
    this.lastPredictionId = predictionId;
    return result.value as TensorsOf<Out>;
  }

  /** The `inference` lifecycle event of a device run (telemetry, test hooks); built only when someone listens. */
  private reportInference(
    predictionId: string,
    backend: Backend,
    result: { value: Feeds; ms: number },
    inputDims: Record<string, number[]>,
  ): void {
    if (!lifecycleObserved()) return;
    emitLifecycle({
      type: 'inference',
      predictionId,
      report: this.settings.telemetry,
      modelId: this.id,
      modelVersion: this.version,
      backend,
      ms: result.ms,
      inputDims,
      outputs: result.value,
    });
  }

  /** `report` false: a failure is not an error event (load-time warm-up runs). */
  private enqueue<T>(task: () => Promise<T>, signal?: AbortSignal, report = true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        // A call already inside onnxruntime cannot be interrupted; its result is dropped.
        reject(new OnDeviceError('ABORTED', 'The run was aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const turn = this.tail.then(async () => {
        if (settled) return;
        try {
          const value = await task();
          if (!settled) resolve(value);
        } catch (error) {
          if (!settled) reject(error);
          if (report && error instanceof OnDeviceError)
            emitLifecycle({ type: 'error', modelId: this.id, modelVersion: this.version, error, report: this.settings.telemetry });
        } finally {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
        }
      });
      this.tail = turn;
    });
  }

  /** `predictionId` undefined: a load-time warm-up run, not reported. */
  private async dispatch(feeds: Feeds, transfer: boolean, predictionId: string | undefined, retried = false): Promise<Feeds> {
    if (this.reloading) await this.reloading;
    if (!this.handle.alive) await this.reload();
    // Only an observer (telemetry, the test hooks) reads these; the dims are copied before the feeds travel.
    const inputDims = lifecycleObserved() ? dimsOf(feeds) : {};
    const handle = this.handle;
    const result = await handle.run(this.key, feeds, transfer);
    if (result.ok) {
      if (predictionId !== undefined) this.reportInference(predictionId, this.deviceBackend, result, inputDims);
      return result.value;
    }
    const error = deserializeError(result.error);
    if (error.code === 'BACKEND_LOST' && result.feeds && !retried) {
      await this.moveToWasm(error.message);
      return this.dispatch(result.feeds, transfer, predictionId, true);
    }
    throw error;
  }

  private watch(handle: WorkerHandle): void {
    handle.onDead(() => {
      if (handle === this.handle) this.crashEpoch++;
    });
    if (this.backend === 'webgpu') {
      const key = this.key;
      void handle
        .call((api) =>
          api.onDeviceLost(
            key,
            Comlink.proxy((reason: string) => void this.moveToWasm(`WebGPU device lost (${reason})`).catch(() => undefined)),
          ),
        )
        .catch(() => undefined);
    }
  }

  /** Rebuild this model on WASM in a fresh worker after the GPU device was lost. */
  private moveToWasm(reason: string): Promise<void> {
    // A disposed model has nothing to rebuild (its callback may still be on its way from the worker).
    if (this.disposed) return Promise.reject(new OnDeviceError('DISPOSED', `${this.id} was disposed`));
    if (this.backend === 'wasm') return this.reloading ?? Promise.resolve();
    this.reloading ??= (async () => {
      emitLifecycle({ type: 'backend_lost', modelId: this.id, modelVersion: this.version, reason, report: this.settings.telemetry });
      this.dispatchEvent(new CustomEvent('backendlost', { detail: { reason } }));
      const old = this.handle;
      try {
        const loaded = await loadOnBackend(this.source, 'wasm', this.settings);
        releaseFromWorker(old, this.key);
        this.adopt(loaded);
        this.backend = 'wasm' as B;
        this.fallbackReason = reason;
      } catch (error) {
        throw new OnDeviceError('BACKEND_LOST', `${reason}, and rebuilding ${this.id} on WASM failed: ${(error as Error).message}`, {
          reason,
        });
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** The worker died: start a new one and load the session again (same backend, WASM if that fails). */
  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        let loaded;
        try {
          loaded = await loadOnBackend(this.source, this.deviceBackend, this.settings);
        } catch (error) {
          if (this.backend !== 'webgpu') throw error;
          loaded = await loadOnBackend(this.source, 'wasm', this.settings);
          this.backend = 'wasm' as B;
          this.fallbackReason = `WebGPU reload failed: ${(error as Error).message}`;
        }
        this.adopt(loaded);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** The backend of a model on the device (every caller is on a device path). */
  private get deviceBackend(): Backend {
    return this.backend as Backend;
  }

  private adopt(loaded: LoadedOnBackend): void {
    if (this.disposed) {
      releaseFromWorker(loaded.handle, loaded.key);
      return;
    }
    this.handle = loaded.handle;
    this.key = loaded.key;
    this.info = loaded.info as ModelInfo<B>;
    this.watch(loaded.handle);
    this.followWarmup(loaded);
  }
}

function dimsOf(feeds: Feeds): Record<string, number[]> {
  const dims: Record<string, number[]> = {};
  for (const name in feeds) dims[name] = [...feeds[name].dims];
  return dims;
}

/** Stop waiting when `signal` fires (ABORTED); a run already inside onnxruntime finishes and its result is dropped. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new OnDeviceError('ABORTED', 'The run was aborted'));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
