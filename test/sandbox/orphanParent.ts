// A stand-in server for the orphan test: starts a sandbox child on an endless native run (the child says when it
// starts it, on the stdout it shares with this process), then waits: the test SIGKILLs this process and checks
// that the child dies too.
import { SandboxProcess } from '../../src/sandbox/SandboxProcess';
import type { tasks } from './testTasks';

const child = await SandboxProcess.start<typeof tasks>(new URL('./testTasks.ts', import.meta.url));
const run = child.call(
  'run',
  { onnx: process.argv[2], feeds: { x: { type: 'float32', data: new Float32Array([1]), dims: [1] } }, announce: true },
  {
    timeoutMs: 600_000,
    memoryBytes: 2 ** 31,
  },
);
await run;
