import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deserializeError, OnDeviceError } from '../core/OnDeviceError';
import { readRssBytes } from './readRssBytes';
import type { SandboxLimits } from './sandboxLimits';
import type { FromChild, SandboxTasks, TaskArgs, TaskName, TaskResult, ToChild } from './sandboxProtocol';

// From the sources the child is TypeScript and starts through sandboxBoot.mjs, which registers tsx; the package
// build (scripts/buildPackage.ts) puts a compiled sandboxChild.js next to the code that starts it. The boot URL
// is computed on purpose: Vite's lib build inlines a literal `new URL('./x.mjs', import.meta.url)` as a data: URL.
const fromSources = import.meta.url.endsWith('.ts');
const childEntry = new URL(fromSources ? './sandboxChild.ts' : './sandboxChild.js', import.meta.url);
const bootFile = fromSources ? new URL(['.', 'sandboxBoot.mjs'].join('/'), import.meta.url) : childEntry;

export interface SandboxStartOptions {
  /** A child that has not imported its task module by then is killed. Default 60 s. */
  startTimeoutMs?: number;
  /** The child's environment. Default: the server's. */
  env?: NodeJS.ProcessEnv;
}

export interface SandboxCallOptions extends SandboxLimits {
  /**
   * Once the task says its run starts (`reportRunning()`, after loading its model), the call's deadline becomes this
   * many ms from then instead of what is left of `timeoutMs`: loading and running each get their own limit.
   */
  runTimeoutMs?: number;
  /** Names the work in error messages (`tiny-mlp@1`). */
  label?: string;
  /** How often the child's RSS is read. Default 20 ms. */
  memoryPollMs?: number;
}

// Children still alive when the server exits (process.exit after a signal, a crash) are killed with it.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/**
 * One child process that runs the tasks of a task module, one call at a time, each under a wall-clock limit and
 * an RSS cap watched from outside; past either the child is killed with SIGKILL and the call rejects with
 * `TIMEOUT` or `OUT_OF_MEMORY` (`details.reason` `'TIMEOUT'` | `'MEMORY'`). A killed process stays dead: start
 * another (SandboxPool does).
 *
 * @example
 * const child = await SandboxProcess.start<typeof import('./myTasks').tasks>(new URL('./myTasks.ts', import.meta.url));
 * try { await child.call('signature', { onnx: '/tmp/m.onnx' }, { timeoutMs: 60_000, memoryBytes: 2 ** 31 }); }
 * finally { await child.kill(); }
 */
export class SandboxProcess<T extends SandboxTasks = SandboxTasks> {
  private nextId = 0;
  private busy = false;
  private killedFor: OnDeviceError | undefined;
  /** The largest RSS read during the last call, in bytes (0 before any read). */
  peakRssBytes = 0;

  private constructor(
    private readonly child: ChildProcess,
    /** Resolves once the process has exited. */
    readonly exited: Promise<void>,
  ) {}

  /** Fork a child for the task module at `tasks` (it exports `tasks`) and wait until it is ready. */
  static async start<T extends SandboxTasks>(tasks: URL, options: SandboxStartOptions = {}): Promise<SandboxProcess<T>> {
    const child = fork(fileURLToPath(bootFile), fromSources ? [childEntry.href, tasks.href] : [tasks.href], {
      serialization: 'advanced',
      execArgv: [],
      env: options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    track(child);
    // Idle children never keep the server alive; a pending call's timer does.
    child.unref();
    child.channel?.unref();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const startTimeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new OnDeviceError('WORKER_CRASHED', `the sandbox process did not start within ${startTimeoutMs} ms`)),
          startTimeoutMs,
        );
        const onMessage = (message: FromChild) => {
          if (message.type === 'ready') done(resolve);
          else if (message.type === 'unavailable') done(() => reject(deserializeError(message.error)));
        };
        const onExit = (code: number | null, signal: string | null) =>
          done(() =>
            reject(new OnDeviceError('WORKER_CRASHED', `the sandbox process exited while starting (${signal ?? `code ${code}`})`)),
          );
        const onError = (error: Error) =>
          done(() => reject(new OnDeviceError('WORKER_CRASHED', `the sandbox process could not start: ${error.message}`)));
        function done(settle: () => void) {
          clearTimeout(timer);
          child.off('message', onMessage).off('exit', onExit).off('error', onError);
          settle();
        }
        child.on('message', onMessage).once('exit', onExit).once('error', onError);
      });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
    return new SandboxProcess<T>(child, exited);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** False once the process has exited or was killed. */
  get alive(): boolean {
    return this.killedFor === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Run `task` in the child under `limits`. One call at a time. */
  call<K extends TaskName<T>>(task: K, args: TaskArgs<T, K>, limits: SandboxCallOptions): Promise<TaskResult<T, K>> {
    if (this.busy) return Promise.reject(new OnDeviceError('INVALID_INPUT', 'a sandbox process runs one call at a time'));
    if (!this.alive) return Promise.reject(this.killedFor ?? new OnDeviceError('WORKER_CRASHED', 'the sandbox process has exited'));
    this.busy = true;
    this.peakRssBytes = 0;
    const id = ++this.nextId;
    const label = limits.label ?? task;
    const { child } = this;
    return new Promise<TaskResult<T, K>>((resolve, reject) => {
      let settled = false;
      let poll: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearTimeout(poll);
        child.off('message', onMessage).off('exit', onExit);
        this.busy = false;
        settle();
      };
      const onMessage = (message: FromChild) => {
        if (message.type === 'result' && message.id === id) finish(() => resolve(message.value as TaskResult<T, K>));
        else if (message.type === 'failure' && message.id === id) finish(() => reject(deserializeError(message.error)));
        else if (message.type === 'running' && message.id === id && limits.runTimeoutMs !== undefined && !settled) {
          // Loading is over: the run gets its own limit from now on.
          clearTimeout(deadline);
          deadline = timeOut(limits.runTimeoutMs, 'the run gave no result');
        }
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish(() =>
          reject(
            this.killedFor ?? new OnDeviceError('WORKER_CRASHED', `${label}: the sandbox process exited (${signal ?? `code ${code}`})`),
          ),
        );
      const killFor = (error: OnDeviceError) => {
        this.kill(error);
        finish(() => reject(error));
      };
      const timeOut = (limitMs: number, what: string) =>
        setTimeout(
          () =>
            killFor(
              new OnDeviceError('TIMEOUT', `${label}: ${what} within ${limitMs} ms; the sandbox process was killed`, {
                reason: 'TIMEOUT',
                limitMs,
              }),
            ),
          limitMs,
        );
      let deadline = timeOut(limits.timeoutMs, 'no result');
      const watchMemory = async () => {
        const rss = await readRssBytes(child.pid!);
        if (settled) return;
        if (rss !== undefined) this.peakRssBytes = Math.max(this.peakRssBytes, rss);
        if (rss !== undefined && rss > limits.memoryBytes) {
          return killFor(
            new OnDeviceError(
              'OUT_OF_MEMORY',
              `${label}: the sandbox process used ${mib(rss)} MiB, over its ${mib(limits.memoryBytes)} MiB limit; it was killed`,
              { reason: 'MEMORY', limitBytes: limits.memoryBytes, rssBytes: rss },
            ),
          );
        }
        poll = setTimeout(() => void watchMemory(), limits.memoryPollMs ?? 20);
      };
      child.on('message', onMessage).once('exit', onExit);
      const message: ToChild = { type: 'call', id, task, args };
      child.send(message, undefined, undefined, (error) => {
        if (error)
          finish(() => reject(new OnDeviceError('WORKER_CRASHED', `${label}: could not reach the sandbox process: ${error.message}`)));
      });
      // The first read after one interval: a call that answers sooner (most /v2 runs) costs no /proc read.
      poll = setTimeout(() => void watchMemory(), limits.memoryPollMs ?? 20);
    });
  }

  /** SIGKILL the process (a call in flight rejects with `reason`, default WORKER_CRASHED) and wait until it has exited. */
  kill(reason?: OnDeviceError): Promise<void> {
    this.killedFor ??= reason ?? new OnDeviceError('WORKER_CRASHED', 'the sandbox process was stopped');
    // Until it has exited, the child keeps the server's event loop alive: a caller awaiting this is not cut short.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.ref();
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 ** 2);
}
