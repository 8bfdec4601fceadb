// The child side of a SandboxProcess: imports the task module named last on its command line and runs one call
// at a time (sandboxProtocol.ts). It holds no limits itself: the server watches its time and RSS from outside
// and kills it with SIGKILL.
import { Worker } from 'node:worker_threads';
import { OnDeviceError, serializeError } from '../core/OnDeviceError';
import { setRunningReporter } from './reportRunning';
import type { FromChild, SandboxTasks, ToChild } from './sandboxProtocol';

function send(message: FromChild): void {
  // A server that is gone cannot be told; the watchdog below ends this process.
  if (process.connected) process.send!(message, undefined, undefined, () => {});
}

// When the server dies without killing this child (SIGKILL, a crash), the IPC 'disconnect' event cannot fire while
// this thread is stuck in a native run: a watchdog thread ends the process as soon as it is re-parented.
const watchdog = new Worker(
  `const { workerData } = require('node:worker_threads');
   setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(process.pid, 'SIGKILL'); }, 500);`,
  { eval: true, workerData: { ppid: process.ppid } },
);
watchdog.unref();
process.on('disconnect', () => process.exit(0));

let tasks: SandboxTasks;
try {
  tasks = ((await import(process.argv[process.argv.length - 1])) as { tasks: SandboxTasks }).tasks;
  if (typeof tasks !== 'object' || tasks === null) throw new Error('the task module exports no `tasks` object');
} catch (error) {
  send({ type: 'unavailable', error: serializeError(error, 'NOT_SUPPORTED') });
  process.exit(1);
}

process.on('message', (message: ToChild) => {
  if (message?.type !== 'call') return;
  const { id, task, args } = message;
  const run = Object.hasOwn(tasks, task) ? tasks[task] : undefined;
  void (async () => {
    try {
      if (typeof run !== 'function') throw new OnDeviceError('INVALID_INPUT', `the sandbox has no task ${JSON.stringify(task)}`);
      setRunningReporter(() => send({ type: 'running', id }));
      send({ type: 'result', id, value: await run(args) });
    } catch (error) {
      send({ type: 'failure', id, error: serializeError(error) });
    } finally {
      setRunningReporter(undefined);
    }
  })();
});
send({ type: 'ready' });
