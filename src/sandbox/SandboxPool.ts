import { OnDeviceError } from '../core/OnDeviceError';
import { DEFAULT_SANDBOX_SETTINGS, sandboxLimits, type SandboxLimits, type SandboxSettings } from './sandboxLimits';
import { SandboxProcess } from './SandboxProcess';
import type { SandboxTasks, TaskArgs, TaskName, TaskResult } from './sandboxProtocol';

export interface SandboxPoolOptions {
  /** The task module the children import (it exports `tasks`). */
  tasks: URL;
  /** Child processes, each running one call at a time. */
  processes: number;
  /** How the limits scale with the models a call loads. Default DEFAULT_SANDBOX_SETTINGS. */
  settings?: SandboxSettings;
  /**
   * Kill each process after one call and start a fresh one: nothing an untrusted model left behind survives.
   * Default false: a process keeps what its calls loaded (warm sessions).
   */
  fresh?: boolean;
  /** Start the processes now and after each replacement, so a call does not wait for one. Default true. */
  startEagerly?: boolean;
  /** A child's environment. Default the server's. */
  env?: NodeJS.ProcessEnv;
}

/** A model a call loads or uses: `key` names it in the process that keeps it loaded, `bytes` is its set's size. */
export interface ModelCost {
  key: string;
  bytes: number;
}

export interface PoolCallOptions {
  /** The models this call loads or uses (they raise its limits; see `limitsFor`). */
  models?: readonly ModelCost[];
  /**
   * Time for the work once its models are loaded. Models the chosen process has not loaded yet add their
   * load time (sandboxLimits); a task that calls `reportRunning()` after loading gets exactly this from then on.
   * Default: sandboxLimits of all the call's models.
   */
  timeoutMs?: number;
  /** Names the work in error messages. */
  label?: string;
}

interface Job {
  task: string;
  args: unknown;
  options: PoolCallOptions;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  process: SandboxProcess | undefined;
  starting: Promise<SandboxProcess> | undefined;
  job: Job | undefined;
  /** What the process has loaded: key → bytes. */
  warm: Map<string, number>;
}

/**
 * Child processes that run a task module's calls, FIFO, one call per process at a time, each call under a time
 * and memory limit (SandboxProcess). A process killed for a limit, or one that crashed, is replaced; its call
 * fails, the others carry on. Calls go to a process that already loaded their models when one is idle.
 *
 * @example
 * const pool = new SandboxPool<typeof import('./inferTasks').tasks>({ tasks: new URL('./inferTasks.ts', import.meta.url), processes: 2 });
 * const out = await pool.call('infer', args, { models: [{ key: 'tiny-mlp@1', bytes: 1234 }], timeoutMs: 60_000 });
 */
export class SandboxPool<T extends SandboxTasks = SandboxTasks> {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly settings: SandboxSettings;
  private closed = false;

  constructor(private readonly options: SandboxPoolOptions) {
    if (!Number.isInteger(options.processes) || options.processes < 1) {
      throw new OnDeviceError('INVALID_INPUT', `processes must be a positive integer, got ${options.processes}`);
    }
    this.settings = options.settings ?? DEFAULT_SANDBOX_SETTINGS;
    for (let i = 0; i < options.processes; i++) {
      const slot: Slot = { process: undefined, starting: undefined, job: undefined, warm: new Map() };
      this.slots.push(slot);
      if (options.startEagerly !== false) this.startInBackground(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Processes running a call now. */
  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  /** Calls waiting for a process. */
  get queued(): number {
    return this.queue.length;
  }

  /** @internal test hook: the ids of the processes now running (started ones). */
  get pids(): number[] {
    return this.slots.flatMap((s) => (s.process?.alive ? [s.process.pid] : []));
  }

  /** The limits a call with these models gets on a process that has loaded `warm`. */
  limitsFor(models: readonly ModelCost[], warm: ReadonlyMap<string, number> = new Map(), timeoutMs?: number): SandboxLimits {
    const loaded = new Map(warm);
    for (const m of models) loaded.set(m.key, m.bytes);
    const coldBytes = models.filter((m) => !warm.has(m.key)).reduce((sum, m) => sum + m.bytes, 0);
    const allBytes = [...loaded.values()].reduce((sum, b) => sum + b, 0);
    const load = sandboxLimits(coldBytes, this.settings);
    return {
      memoryBytes: sandboxLimits(allBytes, this.settings).memoryBytes,
      timeoutMs: timeoutMs === undefined ? load.timeoutMs : timeoutMs + (coldBytes > 0 ? load.timeoutMs : 0),
    };
  }

  /** Run `task` on the next free process (FIFO). */
  call<K extends TaskName<T>>(task: K, args: TaskArgs<T, K>, options: PoolCallOptions = {}): Promise<TaskResult<T, K>> {
    if (this.closed) return Promise.reject(new OnDeviceError('DISPOSED', 'the sandbox pool was closed'));
    return new Promise((resolve, reject) => {
      const job: Job = { task, args, options, resolve: resolve as (value: unknown) => void, reject };
      const keys = (options.models ?? []).map((m) => m.key);
      const idle = this.slots.filter((s) => !s.job);
      const slot = idle.find((s) => s.process?.alive && keys.every((k) => s.warm.has(k))) ?? idle[0];
      if (slot) void this.execute(slot, job);
      else this.queue.push(job);
    });
  }

  /** Kill every process; calls in flight and waiting reject with DISPOSED. */
  async close(): Promise<void> {
    this.closed = true;
    const disposed = new OnDeviceError('DISPOSED', 'the sandbox pool was closed');
    for (const job of this.queue.splice(0)) job.reject(disposed);
    await Promise.all(
      this.slots.map(async (slot) => {
        const child = slot.process ?? (await slot.starting?.catch(() => undefined));
        await child?.kill(disposed);
      }),
    );
  }

  private async execute(slot: Slot, job: Job): Promise<void> {
    slot.job = job;
    try {
      const child = slot.process?.alive ? slot.process : await this.start(slot);
      const models = job.options.models ?? [];
      const limits = this.limitsFor(models, slot.warm, job.options.timeoutMs);
      const value = await child.call(job.task, job.args, {
        ...limits,
        runTimeoutMs: job.options.timeoutMs,
        label: job.options.label,
        memoryPollMs: this.settings.memoryPollMs,
      });
      for (const m of models) slot.warm.set(m.key, m.bytes);
      job.resolve(value);
    } catch (error) {
      job.reject(error);
    } finally {
      slot.job = undefined;
      if (!slot.process?.alive || this.options.fresh) this.replace(slot);
      if (!this.closed) this.pump();
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const next = this.queue.shift();
      if (!next) return;
      void this.execute(slot, next);
    }
  }

  /** The slot's process, starting one if it has none. A failed start leaves the slot empty: the next call retries. */
  private start(slot: Slot): Promise<SandboxProcess> {
    if (slot.process?.alive) return Promise.resolve(slot.process);
    slot.starting ??= SandboxProcess.start(this.options.tasks, { env: this.options.env }).then(
      (child) => {
        slot.starting = undefined;
        if (this.closed) {
          void child.kill();
          throw new OnDeviceError('DISPOSED', 'the sandbox pool was closed');
        }
        slot.process = child;
        slot.warm.clear();
        // A process that dies while idle (killed from outside) is replaced before the next call needs it.
        void child.exited.then(() => {
          if (slot.process === child && !slot.job && !this.closed) this.replace(slot);
        });
        return child;
      },
      (error: unknown) => {
        slot.starting = undefined;
        throw error;
      },
    );
    return slot.starting;
  }

  private replace(slot: Slot): void {
    const old = slot.process;
    slot.process = undefined;
    slot.warm.clear();
    if (old?.alive) void old.kill();
    if (!this.closed && this.options.startEagerly !== false) this.startInBackground(slot);
  }

  private startInBackground(slot: Slot): void {
    // Fire and forget: a start that fails is retried by the next call, which then reports the failure.
    this.start(slot).catch(() => {});
  }
}
