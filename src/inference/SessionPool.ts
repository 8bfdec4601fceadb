import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Worker } from 'node:worker_threads';
import { deserializeError, OnDeviceError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';
import { transferablesOf } from '../core/transferablesOf';
import type { ModelEntry } from '../registry/ModelEntry';
import type { SessionWorkerApi, SessionWorkerData, WorkerRunResult } from './poolProtocol';
import { v2Error } from './v2Error';

export interface SessionPoolOptions {
  modelsDir: string;
  /** Worker threads, each with its own sessions. */
  workers: number;
  /** Requests waiting for a worker at most; one more is refused (503) so memory stays bounded. */
  queueLimit: number;
  /** onnxruntime intra-op threads per session. Default 1 (parallelism comes from the workers). */
  threadsPerWorker?: number;
  /** Bound on one run, model load included; the worker is replaced when it runs out. Default 60 s. */
  runTimeoutMs?: number;
}

interface Job {
  entry: ModelEntry;
  feeds: Feeds;
  resolve: (value: { outputs: Feeds; ms: number }) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  api: Comlink.Remote<SessionWorkerApi>;
  job: Job | undefined;
}

// From the sources the worker is TypeScript and needs the boot file to register tsx in its thread; the
// package build (scripts/buildPackage.ts) puts a compiled sessionWorker.js next to the CLI, started as is.
// The boot URL is computed on purpose: Vite's lib build inlines a literal `new URL('./x.mjs', import.meta.url)`
// as a data: URL.
const fromSources = import.meta.url.endsWith('.ts');
const workerEntry = new URL(fromSources ? './sessionWorker.ts' : './sessionWorker.js', import.meta.url);
const bootUrl = fromSources ? new URL(['.', 'sessionWorkerBoot.mjs'].join('/'), import.meta.url) : workerEntry;

/**
 * onnxruntime-node sessions in worker threads, one run per worker at a time, with a bounded FIFO queue
 * in front. A worker that crashes or overruns is replaced; its request fails, the others carry on.
 *
 * @example
 * const pool = new SessionPool({ modelsDir, workers: 2, queueLimit: 64 });
 * const { outputs } = await pool.run(entry, feeds);
 */
export class SessionPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: SessionPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new OnDeviceError('INVALID_INPUT', `workers must be a positive integer, got ${options.workers}`);
    }
    for (let i = 0; i < options.workers; i++) this.slots.push(this.startWorker());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Workers running a request now. */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** @internal test hook: the worker threads now in the pool. */
  get workerThreads(): Worker[] {
    return this.slots.map((s) => s.worker);
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Run `entry` on the next free worker. Rejects with a /v2 HttpError 503 when the queue is full. */
  run(entry: ModelEntry, feeds: Feeds): Promise<{ outputs: Feeds; ms: number }> {
    if (this.closed) return Promise.reject(v2Error(503, 'QUEUE_FULL', 'the server is shutting down', { 'retry-after': '1' }));
    return new Promise((resolve, reject) => {
      const job: Job = { entry, feeds, resolve, reject };
      const idle = this.slots.find((s) => !s.job);
      if (idle) return this.execute(idle, job);
      if (this.queue.length >= this.options.queueLimit) {
        return reject(
          v2Error(503, 'QUEUE_FULL', `all ${this.slots.length} workers are busy and ${this.queue.length} requests are waiting`, {
            'retry-after': '1',
          }),
        );
      }
      this.queue.push(job);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new OnDeviceError('DISPOSED', 'the session pool was closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private startWorker(): Slot {
    const workerData: SessionWorkerData = {
      entry: workerEntry.href,
      modelsDir: this.options.modelsDir,
      threads: this.options.threadsPerWorker ?? 1,
    };
    const worker = new Worker(bootUrl, { workerData });
    worker.unref();
    const slot: Slot = { worker, api: Comlink.wrap<SessionWorkerApi>(nodeEndpoint(worker)), job: undefined };
    worker.once('error', (error) => this.replace(slot, `the worker crashed: ${error.message}`));
    worker.once('exit', (code) => this.replace(slot, `the worker exited with code ${code}`));
    return slot;
  }

  private execute(slot: Slot, job: Job): void {
    slot.job = job;
    const timeoutMs = this.options.runTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OnDeviceError('TIMEOUT', `${job.entry.id}: no result within ${timeoutMs} ms`)), timeoutMs);
    });
    const call = slot.api.run(job.entry, Comlink.transfer(job.feeds, transferablesOf(job.feeds))) as Promise<WorkerRunResult>;
    Promise.race([call, overrun]).then(
      (result) => {
        clearTimeout(timer);
        if (slot.job !== job) return; // the worker died first; the job was already failed
        slot.job = undefined;
        if (result.ok) job.resolve({ outputs: result.outputs, ms: result.ms });
        else job.reject(deserializeError(result.error));
        this.pump();
      },
      (error: Error) => {
        clearTimeout(timer);
        if (slot.job !== job) return;
        // A run that overran may never come back: replace the worker rather than wait for it.
        this.replace(slot, error.message, error);
        void slot.worker.terminate();
      },
    );
  }

  private replace(slot: Slot, reason: string, error?: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already replaced
    const job = slot.job;
    slot.job = undefined;
    job?.reject(error ?? new OnDeviceError('WORKER_CRASHED', `${job.entry.id}: ${reason}`));
    try {
      slot.api[Comlink.releaseProxy]();
    } catch {} // the worker may already be gone
    if (this.closed) return void this.slots.splice(index, 1);
    this.slots[index] = this.startWorker();
    this.pump();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const next = this.queue.shift();
      if (!next) return;
      this.execute(slot, next);
    }
  }
}
