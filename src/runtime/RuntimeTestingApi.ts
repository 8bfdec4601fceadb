// Types-only protocol of the test-only runtime worker (src/runtime/testingWorker.ts): the production
// worker's API plus hooks that only tests may call.
import type { RuntimeWorkerApi } from '../core/protocol';

export interface RuntimeTestingApi extends RuntimeWorkerApi {
  /** Destroy the GPU device to simulate a driver reset; false when the worker has none. */
  destroyDevice(): Promise<boolean>;
  /** Device-loss callbacks still registered (one per live WebGPU model). */
  deviceLostCallbackCount(): Promise<number>;
  /** Warm-up state of a model's session: warmed, and how many background warm-up runs it got. */
  /** Whether onnxruntime's wasm runtime is up in this worker (it starts at init, not at the first session). */
  runtimeReady(): Promise<boolean>;
  warmupOf(key: string): Promise<{ warm: boolean; backgroundRuns: number } | undefined>;
  /** Calls of `run` the model's session answered (the load's real-path warm-up included). */
  runsOf(key: string): Promise<number | undefined>;
}
