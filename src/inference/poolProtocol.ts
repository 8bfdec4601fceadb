// Types-only protocol between SessionPool (main thread) and sessionWorker (worker threads), over comlink.
import type { SerializedError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';
import type { ModelEntry } from '../registry/ModelEntry';

export interface SessionWorkerData {
  /** The worker's TypeScript or JavaScript entry, loaded by sessionWorkerBoot.mjs. */
  entry: string;
  modelsDir: string;
  /** onnxruntime intra-op threads per worker session. */
  threads: number;
}

export type WorkerRunResult = { ok: true; outputs: Feeds; ms: number } | { ok: false; error: SerializedError };

/** Exposed by each worker. Every method resolves; failures are values. */
export interface SessionWorkerApi {
  /** Load `entry` on first use (verified against its sha256), then run it. */
  run(entry: ModelEntry, feeds: Feeds): Promise<WorkerRunResult>;
}
