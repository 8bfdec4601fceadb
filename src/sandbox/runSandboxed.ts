import { availableParallelism } from 'node:os';
import { DEFAULT_SANDBOX_SETTINGS, sandboxLimits, type SandboxSettings } from './sandboxLimits';
import { SandboxProcess } from './SandboxProcess';
import type { SandboxTasks, TaskArgs, TaskName, TaskResult } from './sandboxProtocol';

export interface RunSandboxedOptions {
  /** Bytes of the model set the call loads: its limits are sandboxLimits(modelBytes, settings). */
  modelBytes: number;
  settings?: SandboxSettings;
  /** Names the work in error messages. */
  label?: string;
  /** The child's environment. Default the server's. */
  env?: NodeJS.ProcessEnv;
}

// One-shot children at once in this process: each may use its whole memory cap, so twenty uploads at once must not
// mean twenty caps at once. The others wait their turn (FIFO), each turn bounded by the running calls' limits.
const slots = { free: Math.max(1, availableParallelism()), waiting: [] as (() => void)[] };

async function takeSlot(): Promise<() => void> {
  if (slots.free > 0) slots.free--;
  else await new Promise<void>((resolve) => slots.waiting.push(resolve));
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free++;
  };
}

/**
 * Run one call of a task module in a fresh child process under the limits for `modelBytes`, then kill the
 * child: nothing an untrusted model loaded survives the call. At most one such child per core runs at a time;
 * later calls wait their turn.
 *
 * @example
 * const signature = await runSandboxed<typeof import('./modelTasks').tasks, 'signature'>(MODEL_TASKS, 'signature', { files }, { modelBytes });
 */
export async function runSandboxed<T extends SandboxTasks, K extends TaskName<T>>(
  tasks: URL,
  task: K,
  args: TaskArgs<T, K>,
  options: RunSandboxedOptions,
): Promise<TaskResult<T, K>> {
  const settings = options.settings ?? DEFAULT_SANDBOX_SETTINGS;
  const release = await takeSlot();
  try {
    const child = await SandboxProcess.start<T>(tasks, { env: options.env });
    try {
      return await child.call(task, args, {
        ...sandboxLimits(options.modelBytes, settings),
        label: options.label,
        memoryPollMs: settings.memoryPollMs,
      });
    } finally {
      await child.kill();
    }
  } finally {
    release();
  }
}
