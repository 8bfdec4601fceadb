import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';
import type { ServableEntry } from './ReleasedModels';
import { SandboxPool, type SandboxSettings } from '../sandbox';
import type { InferResult, ResponsePart } from './inferProtocol';
import type { tasks } from './inferTasks';
import { v2Error } from './v2Error';

export interface SessionPoolOptions {
  modelsDir: string;
  /** Sandbox child processes, each with its own sessions, one run at a time. */
  workers: number;
  /** Requests waiting for a process at most; one more is refused (503) so memory stays bounded. */
  queueLimit: number;
  /** onnxruntime intra-op threads per session. Default 1 (parallelism comes from the processes). */
  threadsPerWorker?: number;
  /** Bound on one run, from the moment its model is loaded (loading has its own limit, `sandbox`). Default 60 s. */
  runTimeoutMs?: number;
  /** Largest encoded response body. Default 64 MiB. */
  maxResponseBytes?: number;
  /** Memory cap and load time of the processes (a base plus a multiple of the loaded models' bytes). */
  sandbox?: SandboxSettings;
}

// From the sources the TypeScript task module, in the package the compiled inferTasks.js beside the CLI.
const inferTasks = new URL(import.meta.url.endsWith('.ts') ? './inferTasks.ts' : './inferTasks.js', import.meta.url);

/**
 * onnxruntime-node sessions in sandbox child processes (src/sandbox), one run per process at a time, with a bounded
 * FIFO queue in front. Processes keep the models they loaded. A run past its time limit or a process past its memory
 * cap is killed with SIGKILL and replaced; its request fails (TIMEOUT, OUT_OF_MEMORY), the others carry on. The
 * process that runs a request also encodes its answer, so the server's thread only routes.
 *
 * @example
 * const pool = new SessionPool({ modelsDir, workers: 2, queueLimit: 64 });
 * const { ms, parts: [answer] } = await pool.run(entry, feeds, [{ id: undefined, outputs: [{ name: 'probs', binary: false }] }]);
 */
export class SessionPool {
  private readonly pool: SandboxPool<typeof tasks>;
  private closed = false;

  constructor(private readonly options: SessionPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new OnDeviceError('INVALID_INPUT', `workers must be a positive integer, got ${options.workers}`);
    }
    this.pool = new SandboxPool({ tasks: inferTasks, processes: options.workers, settings: options.sandbox });
  }

  get size(): number {
    return this.pool.size;
  }

  /** Processes running a request now. */
  get busy(): number {
    return this.pool.busy;
  }

  /** Requests waiting for a process. */
  get queued(): number {
    return this.pool.queued;
  }

  /** @internal test hook: the process ids of the pool's children. */
  get processIds(): number[] {
    return this.pool.pids;
  }

  /**
   * Run `entry` (from `entry.modelsDir`, else the registry's folder) on the next free process and encode each part's
   * answer. Rejects with a /v2 HttpError 503 when the queue is full.
   */
  run(entry: ServableEntry, feeds: Feeds, parts: ResponsePart[]): Promise<InferResult> {
    if (this.closed) return Promise.reject(v2Error(503, 'QUEUE_FULL', 'the server is shutting down', { 'retry-after': '1' }));
    if (this.pool.busy >= this.pool.size && this.pool.queued >= this.options.queueLimit) {
      return Promise.reject(
        v2Error(503, 'QUEUE_FULL', `all ${this.pool.size} workers are busy and ${this.pool.queued} requests are waiting`, {
          'retry-after': '1',
        }),
      );
    }
    const args = {
      entry,
      // A released version's files are in a folder of their own (ReleasedModels), a registry model's in the registry's.
      modelsDir: entry.modelsDir ?? this.options.modelsDir,
      threads: this.options.threadsPerWorker ?? 1,
      feeds,
      parts,
      maxResponseBytes: this.options.maxResponseBytes ?? 64 * 1024 * 1024,
    };
    return this.pool.call('infer', args, {
      // The whole set: the ONNX file and its external data (totalBytes), which the session holds too.
      models: [{ key: `${entry.id}@${entry.version}`, bytes: entry.totalBytes ?? entry.bytes }],
      timeoutMs: this.options.runTimeoutMs ?? 60_000,
      label: `${entry.id}@${entry.version}`,
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
  }
}
