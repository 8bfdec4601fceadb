// Types-only protocol between a SandboxProcess (the server) and sandboxChild (the child process), over the
// child's IPC channel with `serialization: 'advanced'` (structured clone: typed arrays and BigInts travel as is).
// One call at a time per child: the server sends `call`, the child answers `result` or `failure` with its id.
import type { SerializedError } from '../core/OnDeviceError';

/** What a task module exports as `tasks`: named functions of one structured-cloneable argument. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SandboxTasks = Record<string, (args: any) => unknown>;

export type TaskName<T extends SandboxTasks> = Extract<keyof T, string>;
export type TaskArgs<T extends SandboxTasks, K extends TaskName<T>> = Parameters<T[K]>[0];
export type TaskResult<T extends SandboxTasks, K extends TaskName<T>> = Awaited<ReturnType<T[K]>>;

/** Server → child. */
export type ToChild = { type: 'call'; id: number; task: string; args: unknown };

/**
 * Child → server. `ready` once the task module is imported; a child that cannot start says `unavailable` and exits.
 * `running`: the call's task has loaded what it needs and starts its run (reportRunning).
 */
export type FromChild =
  | { type: 'ready' }
  | { type: 'unavailable'; error: SerializedError }
  | { type: 'running'; id: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'failure'; id: number; error: SerializedError };
