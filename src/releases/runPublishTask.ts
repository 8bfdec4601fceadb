import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deserializeError, OnDeviceError, type SerializedError } from '../core/OnDeviceError';
import type { tasks } from './publishTasks';

type Tasks = typeof tasks;

const tasksUrl = new URL('./publishTasks.ts', import.meta.url);
const bootFile = fileURLToPath(new URL(['.', 'publishTaskBoot.mjs'].join('/'), import.meta.url));

/**
 * Run one of a publish's checks (publishTasks.ts) in a child process of its own, killed with SIGKILL past
 * `timeoutMs`: an uploaded model is never parsed or loaded on the server's thread.
 */
export function runPublishTask<K extends keyof Tasks>(
  task: K,
  args: Parameters<Tasks[K]>[0],
  options: { timeoutMs: number; label: string },
): Promise<Awaited<ReturnType<Tasks[K]>>> {
  return new Promise((resolve, reject) => {
    const child = fork(bootFile, [tasksUrl.href], {
      serialization: 'advanced',
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    const settle = (error: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(value as Awaited<ReturnType<Tasks[K]>>);
    };
    const timer = setTimeout(
      () =>
        settle(
          new OnDeviceError('MODEL_LOAD_FAILED', `${options.label}: no answer within ${options.timeoutMs} ms`, {
            reason: 'TIMEOUT',
            limitMs: options.timeoutMs,
          }),
        ),
      options.timeoutMs,
    );
    child.on('message', (message: { ready?: true; ok?: boolean; value?: unknown; error?: SerializedError }) => {
      if (message.ready) child.send({ task, args });
      else if (message.ok) settle(undefined, message.value);
      else settle(deserializeError(message.error!));
    });
    child.once('error', (error) => settle(error));
    child.once('exit', (code, signal) =>
      settle(new OnDeviceError('WORKER_CRASHED', `${options.label}: the check's process ended (${signal ?? `exit code ${code}`})`)),
    );
  });
}
