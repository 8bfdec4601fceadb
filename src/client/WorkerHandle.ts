import type { RuntimeWorkerApi, WorkerConfig } from '../core/protocol';
import { WorkerLink } from '../core/WorkerLink';
import { createRuntimeWorker } from './createRuntimeWorker';

let nextId = 1;

/** One runtime worker: its config, the models living in it, and the link that calls it (src/core/WorkerLink.ts). */
export class WorkerHandle {
  readonly id = nextId++;
  readonly config: WorkerConfig;
  /** Model keys living in this worker. */
  readonly models = new Set<string>();
  private readonly link: WorkerLink<RuntimeWorkerApi>;

  constructor(workerUrl: string, config: WorkerConfig) {
    this.config = config;
    this.link = new WorkerLink<RuntimeWorkerApi>(createRuntimeWorker(workerUrl, `ondevice-${config.bundle}-${this.id}`), {
      // A worker that never started (404, CSP, wrong baseUrl) has no message; name the URL to check.
      describeCrash: (event) =>
        `the worker crashed: ${event.message || `uncaught error (could ${workerUrl} not be loaded? check configure({ baseUrl }) and CSP; or out of memory)`}`,
      details: { workerId: this.id },
    });
  }

  get alive(): boolean {
    return this.link.alive;
  }

  /** Calls sent to the worker and not yet answered. */
  get pendingCalls(): number {
    return this.link.pendingCalls;
  }

  onDead(callback: (handle: WorkerHandle) => void): void {
    this.link.onDead(() => callback(this));
  }

  /** Run a worker call; rejects with WORKER_CRASHED if the worker dies first. */
  call<T>(fn: (api: RuntimeWorkerApi) => Promise<T>): Promise<T> {
    return this.link.call(fn);
  }

  /** Terminate deliberately (no model left) or because it misbehaved. */
  terminate(reason = 'the worker was terminated'): void {
    this.link.terminate(reason);
  }
}
