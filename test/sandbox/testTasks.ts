// A task module for the sandbox tests: the child imports it by URL (SandboxProcess, SandboxPool).
import { OnDeviceError } from '../../src/core/OnDeviceError';
import type { Feeds } from '../../src/core/protocol';
import { fromOrtOutputs } from '../../src/node/fromOrtOutputs';
import { loadOrt } from '../../src/node/loadOrt';
import { toOrtFeeds } from '../../src/node/toOrtFeeds';
import { reportRunning } from '../../src/sandbox';

let kept: Buffer[] = [];

export const tasks = {
  echo: <T>(value: T): T => value,
  pid: () => process.pid,
  refuse: (): never => {
    throw new OnDeviceError('INVALID_INPUT', 'refused on purpose', { field: 'x' });
  },
  /** Touch `bytes` of memory and keep it. */
  allocate: ({ bytes }: { bytes: number }) => {
    kept.push(Buffer.alloc(bytes, 1));
    return kept.reduce((n, b) => n + b.length, 0);
  },
  release: () => {
    kept = [];
  },
  exit: ({ code }: { code: number }): never => process.exit(code),
  /** Wait `ms` and say when the wait began and ended (wall clock). */
  wait: async ({ ms }: { ms: number }) => {
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { start, end: Date.now() };
  },
  /** Wait `loadMs` (standing for a model's load), say the run starts, then run the model: timed apart. */
  async loadThenRun(a: { loadMs: number; onnx: string; feeds: Feeds }): Promise<Feeds> {
    await new Promise((resolve) => setTimeout(resolve, a.loadMs));
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(a.onnx, { intraOpNumThreads: 1 });
    reportRunning();
    return fromOrtOutputs(await session.run(toOrtFeeds(ort, a.feeds)));
  },
  /** Run a model file once with onnxruntime-node, on this thread (where a native run cannot be interrupted). */
  async run({ onnx, feeds, announce }: { onnx: string; feeds: Feeds; announce?: boolean }): Promise<Feeds> {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1 });
    // Written synchronously (stdout is a pipe): whoever reads it knows the native run is about to start.
    if (announce) process.stdout.write(`native run starting in ${process.pid}\n`);
    try {
      return fromOrtOutputs(await session.run(toOrtFeeds(ort, feeds)));
    } finally {
      await session.release();
    }
  },
};
