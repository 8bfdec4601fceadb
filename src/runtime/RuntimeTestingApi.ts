// Types-only protocol of the test-only runtime worker (src/runtime/testingWorker.ts): the production
// worker's API plus hooks that only tests may call.
import type { RuntimeWorkerApi } from '../core/protocol';
import type { StartupTimeline } from '../core/startupTimeline';
import type { SessionWarmup } from './SessionWarmup';

export interface RuntimeTestingApi extends RuntimeWorkerApi {
  /** Destroy the GPU device to simulate a driver reset; false when the worker has none. */
  destroyDevice(): Promise<boolean>;
  /** Device-loss callbacks still registered (one per live WebGPU model). */
  deviceLostCallbackCount(): Promise<number>;
  /** Whether onnxruntime's wasm runtime is up in this worker (it starts at init, not at the first session). */
  runtimeReady(): Promise<boolean>;
  /** Whether onnxruntime's wasm here was instantiated from the module the page compiled (not compiled here). */
  runtimeFromPage(): Promise<boolean>;
  /**
   * Warm-up state of a model's session: finished, on what, its runs (passed; background ones; failed attempts)
   * and how each call made during it met it (warm-up runs that ended and started while the call waited).
   */
  warmupOf(key: string): Promise<ReturnType<SessionWarmup['state']> | undefined>;
  /** Calls of `run` the model's session answered (the load's real-path warm-up included). */
  runsOf(key: string): Promise<number | undefined>;
  /** This worker's start-up marks and resource timings (src/core/markStartup.ts), on its own clock from `timeOrigin`. */
  startupTimeline(): Promise<StartupTimeline>;
}
