import * as Comlink from 'comlink';
import { OnDeviceError } from './OnDeviceError';

export interface WorkerLinkOptions {
  /** The WORKER_CRASHED message for an uncaught error in the worker (or a worker that never started). */
  describeCrash(event: ErrorEvent): string;
  /** Added to the WORKER_CRASHED error's details. */
  details?: Record<string, unknown>;
}

/**
 * The one way we talk to a worker: comlink, with every call raced against the worker's death, so a
 * crashed or terminated worker rejects its pending calls with WORKER_CRASHED instead of leaving them
 * hanging (comlink alone never settles them). `Api` is the worker's types-only protocol; its methods
 * must all return promises.
 *
 * @example
 * const link = new WorkerLink<RuntimeWorkerApi>(new Worker(url, { type: 'module' }), { describeCrash: (e) => e.message });
 * const result = await link.call((api) => api.memory());
 */
export class WorkerLink<Api extends object> {
  private readonly remote: Comlink.Remote<Api>;
  private deathReason: OnDeviceError | undefined;
  private readonly died: Promise<never>;
  private rejectDied!: (e: OnDeviceError) => void;
  private readonly onDeath: (() => void)[] = [];
  private pending = 0;

  constructor(
    private readonly worker: Worker,
    private readonly options: WorkerLinkOptions,
  ) {
    this.died = new Promise<never>((_, reject) => (this.rejectDied = reject));
    this.died.catch(() => undefined); // observed through call(); never an unhandled rejection
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.terminate(options.describeCrash(event));
    });
    this.remote = Comlink.wrap<Api>(worker);
  }

  get alive(): boolean {
    return !this.deathReason;
  }

  /** Calls sent and not yet answered. */
  get pendingCalls(): number {
    return this.pending;
  }

  /** Called once, when the worker dies or is terminated. */
  onDead(callback: () => void): void {
    this.onDeath.push(callback);
  }

  /** Run a worker call; rejects with WORKER_CRASHED if the worker dies first. */
  async call<T>(fn: (api: Api) => Promise<T>): Promise<T> {
    if (this.deathReason) throw this.deathReason;
    this.pending++;
    try {
      // Every method of Api returns a promise already, so the plain interface is the remote's type.
      return await Promise.race([fn(this.remote as unknown as Api), this.died]);
    } finally {
      this.pending--;
    }
  }

  /** Terminate the worker (deliberately, or because it crashed): pending calls reject with WORKER_CRASHED. */
  terminate(reason: string): void {
    if (this.deathReason) return;
    this.deathReason = new OnDeviceError('WORKER_CRASHED', `${reason}; the next call starts a new worker`, this.options.details ?? {});
    this.worker.terminate();
    this.remote[Comlink.releaseProxy]();
    this.rejectDied(this.deathReason);
    for (const cb of this.onDeath) cb();
  }
}
