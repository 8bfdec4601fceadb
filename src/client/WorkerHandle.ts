import * as Comlink from 'comlink';
import type { Feeds, RunPortReply, RunPortRequest, RunResult, RuntimeWorkerApi, WorkerConfig } from '../core/protocol';
import { WorkerLink } from '../core/WorkerLink';
import { transferablesOf } from '../core/transferablesOf';
import { createRuntimeWorker } from './createRuntimeWorker';
import { markStartup } from '../core/markStartup';

let nextId = 1;

/** One runtime worker: its config, the models living in it, and the link that calls it (src/core/WorkerLink.ts). */
export class WorkerHandle {
  readonly id = nextId++;
  readonly config: WorkerConfig;
  /** Model keys living in this worker. */
  readonly models = new Set<string>();
  private readonly link: WorkerLink<RuntimeWorkerApi>;
  /** `run`'s own channel to the worker (protocol.ts, RunPortRequest), answered by id. */
  private readonly runPort: MessagePort;
  private readonly runsWaiting = new Map<number, (result: RunResult) => void>();
  private nextRunId = 1;

  constructor(workerUrl: string, config: WorkerConfig) {
    this.config = config;
    this.link = new WorkerLink<RuntimeWorkerApi>(createRuntimeWorker(workerUrl, `ondevice-${config.bundle}-${this.id}`), {
      // A worker that never started (404, CSP, wrong baseUrl) has no message; name the URL to check.
      describeCrash: (event) =>
        `the worker crashed: ${event.message || `uncaught error (could ${workerUrl} not be loaded? check configure({ baseUrl }) and CSP; or out of memory)`}`,
      details: { workerId: this.id },
    });
    markStartup('worker-created', config.bundle);
    const channel = new MessageChannel();
    this.runPort = channel.port1;
    this.runPort.onmessage = (event: MessageEvent<RunPortReply>) => {
      const resolve = this.runsWaiting.get(event.data.id);
      this.runsWaiting.delete(event.data.id);
      resolve?.(event.data.result);
    };
    // Runs sent before the worker has the port wait in the port's queue. A dead worker rejects them
    // through the link (run below); the map is cleared with it.
    void this.link.call((api) => api.openRunPort(Comlink.transfer(channel.port2, [channel.port2]))).catch(() => undefined);
    this.link.onDead(() => {
      this.runsWaiting.clear();
      this.runPort.close();
    });
  }

  /** The worker's `run(key, feeds)` on the run port; rejects with WORKER_CRASHED if the worker dies first. */
  run(key: string, feeds: Feeds, transfer: boolean): Promise<RunResult> {
    return this.link.call(
      () =>
        new Promise<RunResult>((resolve) => {
          const id = this.nextRunId++;
          this.runsWaiting.set(id, resolve);
          try {
            this.runPort.postMessage({ id, key, feeds } satisfies RunPortRequest, transfer ? transferablesOf(feeds) : []);
          } catch (error) {
            // Feeds that cannot be cloned (a detached buffer): nothing was sent.
            this.runsWaiting.delete(id);
            throw error;
          }
        }),
    );
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
