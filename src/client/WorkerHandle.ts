import * as Comlink from 'comlink';
import type { RuntimeWorkerApi, WorkerConfig } from '../core/protocol';
import { createRuntimeWorker } from './createRuntimeWorker';
import { OnDeviceError } from '../core/OnDeviceError';

let nextId = 1;

/**
 * One runtime worker. Every call through `call` is raced against the worker's death, so a crashed or
 * killed worker rejects its pending calls with WORKER_CRASHED instead of leaving them hanging.
 */
export class WorkerHandle {
  readonly id = nextId++;
  readonly config: WorkerConfig;
  // Every method of RuntimeWorkerApi already returns a promise, so the plain interface is the remote's type.
  readonly api: RuntimeWorkerApi;
  private readonly remote: Comlink.Remote<RuntimeWorkerApi>;
  /** Model keys living in this worker. */
  readonly models = new Set<string>();
  private readonly worker: Worker;
  private deathReason: OnDeviceError | undefined;
  private readonly died: Promise<never>;
  private rejectDied!: (e: OnDeviceError) => void;
  private readonly onDeath: ((handle: WorkerHandle) => void)[] = [];

  constructor(workerUrl: string, config: WorkerConfig) {
    this.config = config;
    this.worker = createRuntimeWorker(workerUrl, `ondevice-${config.bundle}-${this.id}`);
    this.died = new Promise<never>((_, reject) => (this.rejectDied = reject));
    this.died.catch(() => undefined); // observed through call(); never an unhandled rejection
    this.worker.addEventListener('error', (event) => {
      event.preventDefault();
      // A worker that never started (404, CSP, wrong baseUrl) has no message; name the URL to check.
      this.markDead(
        `the worker crashed: ${event.message || `uncaught error (could ${workerUrl} not be loaded? check configure({ baseUrl }) and CSP; or out of memory)`}`,
      );
    });
    this.remote = Comlink.wrap<RuntimeWorkerApi>(this.worker);
    this.api = this.remote as unknown as RuntimeWorkerApi;
  }

  get alive(): boolean {
    return !this.deathReason;
  }

  onDead(callback: (handle: WorkerHandle) => void): void {
    this.onDeath.push(callback);
  }

  /** Run a worker call; rejects with WORKER_CRASHED if the worker dies first. */
  async call<T>(fn: (api: RuntimeWorkerApi) => Promise<T>): Promise<T> {
    if (this.deathReason) throw this.deathReason;
    return Promise.race([fn(this.api), this.died]);
  }

  /** Terminate deliberately (no model left) or because it misbehaved. */
  terminate(reason = 'the worker was terminated'): void {
    this.markDead(reason);
  }

  private markDead(reason: string): void {
    if (this.deathReason) return;
    this.deathReason = new OnDeviceError('WORKER_CRASHED', `${reason}; the next call starts a new worker`, { workerId: this.id });
    this.worker.terminate();
    this.remote[Comlink.releaseProxy]();
    this.rejectDied(this.deathReason);
    for (const cb of this.onDeath) cb(this);
  }
}
