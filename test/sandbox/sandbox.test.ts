// The sandbox with real child processes and real hostile models (written by the repository's ONNX encoder):
// limits kill the child with SIGKILL and come back as typed errors, pools replace what they lost, and a child
// never outlives its server.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import {
  modelFilesBytes,
  readSignatureInSandbox,
  runSandboxed,
  SandboxPool,
  SandboxProcess,
  sandboxLimits,
  sandboxSettingsFromEnv,
  type SandboxSettings,
} from '../../src/sandbox';
import { constantMemoryBombModel, endlessLoopModel, tripsLoopModel } from './hostileModels';
import type { tasks as testTasks } from './testTasks';
import { waitFor } from '../helpers/waitFor';

const TASKS = new URL('./testTasks.ts', import.meta.url);
type TestTasks = typeof testTasks;
const MiB = 1024 ** 2;
/** Small limits so bombs are killed in well under a second of their work. */
const SMALL: SandboxSettings = { timeBaseMs: 20_000, timeMsPerMiB: 0, memoryBaseBytes: 400 * MiB, memoryPerModelByte: 0, memoryPollMs: 20 };

let dir: string;
const x1 = { x: { type: 'float32' as const, data: new Float32Array([7]), dims: [1] } };
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ondevice-sandbox-'));
  await writeFile(path.join(dir, 'endless.onnx'), endlessLoopModel());
  await writeFile(path.join(dir, 'trips.onnx'), tripsLoopModel());
  await writeFile(path.join(dir, 'bomb.onnx'), constantMemoryBombModel(2 ** 28)); // 1 GiB of zeros, folded at load
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function caught(promise: Promise<unknown>): Promise<OnDeviceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OnDeviceError);
  return error as OnDeviceError;
}

describe('SandboxProcess', () => {
  it('carries typed arrays and BigInts both ways, and a task’s OnDeviceError with its code and details', async () => {
    const child = await SandboxProcess.start<TestTasks>(TASKS);
    cleanups.push(() => child.kill());
    const limits = { timeoutMs: 10_000, memoryBytes: 1024 * MiB };
    const value = { a: new BigInt64Array([9007199254740993n]), f: new Float32Array([1.5, -2]), s: ['x'] };
    expect(await child.call('echo', value, limits)).toEqual(value);
    const refused = await caught(child.call('refuse', undefined, limits));
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', message: 'refused on purpose', details: { field: 'x' } });
    expect(child.pid).not.toBe(process.pid);
    expect(await child.call('pid', undefined, limits)).toBe(child.pid);
  });

  it('a native run past its time limit is killed with SIGKILL: TIMEOUT, reason TIMEOUT', async () => {
    const child = await SandboxProcess.start<TestTasks>(TASKS);
    cleanups.push(() => child.kill());
    const started = Date.now();
    const error = await caught(
      child.call('run', { onnx: path.join(dir, 'endless.onnx'), feeds: x1 }, { timeoutMs: 1000, memoryBytes: 1024 * MiB }),
    );
    expect(error.code).toBe('TIMEOUT');
    expect(error.details).toEqual({ reason: 'TIMEOUT', limitMs: 1000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await child.exited;
    expect(child.alive).toBe(false);
    expect(isAlive(child.pid)).toBe(false);
  });

  it('with runTimeoutMs, loading and running are timed apart: the run limit counts from reportRunning()', async () => {
    const child = await SandboxProcess.start<TestTasks>(TASKS);
    cleanups.push(() => child.kill());
    const started = Date.now();
    const args = { loadMs: 1500, onnx: path.join(dir, 'endless.onnx'), feeds: x1 };
    const error = await caught(child.call('loadThenRun', args, { timeoutMs: 20_000, runTimeoutMs: 700, memoryBytes: 1024 * MiB }));
    expect(error).toMatchObject({ code: 'TIMEOUT', details: { reason: 'TIMEOUT', limitMs: 700 } });
    expect(error.message).toMatch(/the run gave no result within 700 ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500 + 700); // the load did not count against the run
  });

  it('a child past its memory cap is killed: OUT_OF_MEMORY, reason MEMORY, with the RSS it reached', async () => {
    const child = await SandboxProcess.start<TestTasks>(TASKS);
    cleanups.push(() => child.kill());
    const error = await caught(child.call('allocate', { bytes: 2048 * MiB }, { timeoutMs: 20_000, memoryBytes: 300 * MiB }));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.details.reason).toBe('MEMORY');
    expect(error.details.limitBytes).toBe(300 * MiB);
    expect(error.details.rssBytes).toBeGreaterThan(300 * MiB);
    await child.exited;
    expect(isAlive(child.pid)).toBe(false);
  });

  it('a child that exits on its own fails its call with WORKER_CRASHED', async () => {
    const child = await SandboxProcess.start<TestTasks>(TASKS);
    const error = await caught(child.call('exit', { code: 3 }, { timeoutMs: 10_000, memoryBytes: 1024 * MiB }));
    expect(error.code).toBe('WORKER_CRASHED');
    expect(error.message).toContain('code 3');
  });
});

describe('model work in a fresh child', () => {
  it('reads the signature of a model set; the server never loads it', async () => {
    const signature = await readSignatureInSandbox({ onnx: path.join(dir, 'trips.onnx') });
    expect(signature.inputs.map((i) => i.name)).toEqual(['trips', 'x']);
    expect(signature.outputs).toEqual([{ name: 'y', type: 'float32', shape: [1] }]);
  });

  it('a 254-byte ConstantOfShape→ReduceSum bomb is killed at the memory cap while it loads', async () => {
    const started = Date.now();
    const error = await caught(readSignatureInSandbox({ onnx: path.join(dir, 'bomb.onnx') }, { settings: SMALL }));
    expect(error.code).toBe('OUT_OF_MEMORY');
    expect(error.details).toMatchObject({ reason: 'MEMORY', limitBytes: 400 * MiB });
    expect(Date.now() - started).toBeLessThan(SMALL.timeBaseMs);
  });

  it('runSandboxed scales the time limit with the model set: an endless Loop dies at base + bytes × rate', async () => {
    const onnx = path.join(dir, 'endless.onnx');
    const bytes = await modelFilesBytes({ onnx });
    const settings = { ...SMALL, timeBaseMs: 500, timeMsPerMiB: (500 * MiB) / bytes }; // 500 ms + 500 ms for this file
    expect(sandboxLimits(bytes, settings).timeoutMs).toBe(1000);
    const error = await caught(runSandboxed<TestTasks, 'run'>(TASKS, 'run', { onnx, feeds: x1 }, { modelBytes: bytes, settings }));
    expect(error.details).toEqual({ reason: 'TIMEOUT', limitMs: 1000 });
  });

  it('runs at most one fresh child per core at a time; the others wait their turn', async () => {
    const cores = availableParallelism();
    const calls = Array.from({ length: cores + 1 }, () =>
      runSandboxed<TestTasks, 'wait'>(TASKS, 'wait', { ms: 1500 }, { modelBytes: 0, settings: SMALL }),
    );
    const spans = await Promise.all(calls);
    // The most waits running at one moment: at some wait's start, every wait that had begun and not ended.
    const most = Math.max(...spans.map((a) => spans.filter((b) => b.start <= a.start && a.start < b.end).length));
    expect(most).toBe(cores);
  });

  it('limits and settings: a base plus a multiple of the bytes, from the environment', async () => {
    await writeFile(path.join(dir, 'set.onnx'), new Uint8Array(1000));
    await writeFile(path.join(dir, 'set.onnx.data'), new Uint8Array(24));
    expect(await modelFilesBytes({ onnx: path.join(dir, 'set.onnx'), externalData: ['set.onnx.data'] })).toBe(1024);
    for (const escape of ['../x', '/etc/passwd', 'a/../../x'])
      await expect(modelFilesBytes({ onnx: path.join(dir, 'set.onnx'), externalData: [escape] })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    const settings = sandboxSettingsFromEnv({
      ONDEVICE_SANDBOX_TIME_BASE_MS: '1000',
      ONDEVICE_SANDBOX_TIME_MS_PER_MIB: '10',
      ONDEVICE_SANDBOX_MEMORY_BASE_BYTES: '1000000',
      ONDEVICE_SANDBOX_MEMORY_PER_MODEL_BYTE: '4',
    });
    expect(sandboxLimits(2.5 * 1024 * MiB, settings)).toEqual({ timeoutMs: 1000 + 25_600, memoryBytes: 1_000_000 + 4 * 2.5 * 1024 * MiB });
    // The defaults let a 2.5 GB set load: minutes and gigabytes, not the base alone.
    expect(sandboxLimits(2.5e9)).toEqual({ timeoutMs: 298_419, memoryBytes: 2 * 1024 * MiB + 7.5e9 });
    expect(() => sandboxSettingsFromEnv({ ONDEVICE_SANDBOX_TIME_BASE_MS: 'soon' })).toThrow(/ONDEVICE_SANDBOX_TIME_BASE_MS/);
  });
});

describe('SandboxPool', () => {
  it('keeps a process warm across calls, replaces one killed for a limit, and the next call runs', async () => {
    const pool = new SandboxPool<TestTasks>({ tasks: TASKS, processes: 1, settings: SMALL });
    cleanups.push(() => pool.close());
    const first = await pool.call('pid', undefined, { timeoutMs: 10_000 });
    expect(await pool.call('pid', undefined, { timeoutMs: 10_000 })).toBe(first);
    const trips = {
      onnx: path.join(dir, 'trips.onnx'),
      feeds: { trips: { type: 'int64' as const, data: new BigInt64Array([10n ** 12n]), dims: [] }, ...x1 },
    };
    const error = await caught(pool.call('run', trips, { timeoutMs: 500 }));
    expect(error.details.reason).toBe('TIMEOUT');
    await waitFor('the killed process to be gone', () => !isAlive(first));
    const second = await pool.call('pid', undefined, { timeoutMs: 10_000 });
    expect(second).not.toBe(first);
    trips.feeds.trips.data = new BigInt64Array([3n]);
    expect((await pool.call('run', trips, { timeoutMs: 10_000 })).y.data).toEqual(new Float32Array([7]));
  });

  it('queues calls FIFO behind a busy process; close() kills it and rejects what waits with DISPOSED', async () => {
    const pool = new SandboxPool<TestTasks>({ tasks: TASKS, processes: 1, settings: SMALL });
    const running = pool.call('run', { onnx: path.join(dir, 'endless.onnx'), feeds: x1 }, { timeoutMs: 60_000 });
    const waiting = pool.call('echo', 1, { timeoutMs: 10_000 });
    await waitFor('one call running, one waiting', () => pool.busy === 1 && pool.queued === 1);
    const [pid] = await waitFor('the process to be up', () => (pool.pids.length === 1 ? pool.pids : undefined));
    const outcomes = Promise.all([caught(running), caught(waiting)]);
    await pool.close();
    expect((await outcomes).map((e) => e.code)).toEqual(['DISPOSED', 'DISPOSED']);
    await waitFor('the process to be gone', () => !isAlive(pid));
    expect((await caught(pool.call('echo', 1))).code).toBe('DISPOSED');
  });

  it('fresh: every call gets a new process', async () => {
    const pool = new SandboxPool<TestTasks>({ tasks: TASKS, processes: 1, fresh: true });
    cleanups.push(() => pool.close());
    const a = await pool.call('pid', undefined, { timeoutMs: 10_000 });
    const b = await pool.call('pid', undefined, { timeoutMs: 10_000 });
    expect(b).not.toBe(a);
  });

  it('the memory cap grows with the models a process keeps loaded', () => {
    const pool = new SandboxPool({
      tasks: TASKS,
      processes: 1,
      settings: { ...SMALL, memoryPerModelByte: 2, timeMsPerMiB: 1000 },
      startEagerly: false,
    });
    const warm = new Map([['a@1', 100 * MiB]]);
    expect(pool.limitsFor([{ key: 'b@1', bytes: 50 * MiB }], warm, 1000)).toEqual({
      memoryBytes: 400 * MiB + 2 * 150 * MiB,
      timeoutMs: 1000 + 20_000 + 50_000, // the run, plus loading b (a is loaded)
    });
    expect(pool.limitsFor([{ key: 'a@1', bytes: 100 * MiB }], warm, 1000)).toEqual({
      memoryBytes: 400 * MiB + 2 * 100 * MiB,
      timeoutMs: 1000,
    });
  });
});

describe('a child never outlives its server', () => {
  it('SIGKILL the server while its child is stuck in an endless native run: the child dies too', async () => {
    const server = spawn(
      process.execPath,
      ['--import', 'tsx', path.resolve('test/sandbox/orphanParent.ts'), path.join(dir, 'endless.onnx')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const childPid = await waitFor('the child to start its run', () => /native run starting in (\d+)/.exec(out)?.[1], {
      timeoutMs: 30_000,
    });
    cleanups.push(async () => (isAlive(Number(childPid)) ? process.kill(Number(childPid), 'SIGKILL') : undefined));
    expect(isAlive(Number(childPid))).toBe(true);
    server.kill('SIGKILL');
    await waitFor('the orphaned child to die', () => !isAlive(Number(childPid)), { timeoutMs: 10_000 });
  });
});
