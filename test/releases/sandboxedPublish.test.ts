// Publishing loads and runs the upload only in a sandbox child (the real `npm start` process, real hostile models
// written by the ONNX encoder): a 349-byte endless Loop and a 254-byte ConstantOfShape→ReduceSum bomb are refused
// with 422 MODEL_LOAD_FAILED and the limit they passed, the server answers health checks meanwhile, its own memory
// stays put, and SIGTERM stops it whatever runs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { constantMemoryBombModel, endlessLoopModel } from '../sandbox/hostileModels';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { call, publish } from './startReleaseServer';
import { waitFor } from '../helpers/waitFor';

const MiB = 1024 ** 2;
// Small limits so bombs die fast: 5 s and 400 MiB whatever the model's size.
const LIMITS = {
  ONDEVICE_SANDBOX_TIME_BASE_MS: '5000',
  ONDEVICE_SANDBOX_TIME_MS_PER_MIB: '0',
  ONDEVICE_SANDBOX_MEMORY_BASE_BYTES: String(400 * MiB),
  ONDEVICE_SANDBOX_MEMORY_PER_MODEL_BYTE: '0',
};

let server: SpawnedServer;
beforeEach(async () => {
  server = await startAppServer(LIMITS);
}, 60_000);
afterEach(() => server?.stop());

function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The server's child processes, or those whose command line matches `pattern` (e.g. the publish checks' modelTasks). */
function childrenOf(pid: number, pattern?: string): number[] {
  try {
    const args = ['-P', String(pid), ...(pattern ? ['-f', pattern] : [])];
    return execFileSync('pgrep', args, { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** GETs `paths` every 200 ms until `until` settles; each must answer 200 within 5 s (a liveness check, not a speed assert). */
async function stayLive(url: string, until: Promise<unknown>): Promise<number> {
  let settled = false;
  void until.finally(() => (settled = true));
  let answered = 0;
  while (!settled) {
    for (const path of ['/v1/health', '/v2/health/live', '/models/registry.json']) {
      const res = await fetch(url + path, { signal: AbortSignal.timeout(5000) });
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
      answered++;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return answered;
}

describe('publishing runs the upload only in the sandbox', () => {
  it('an endless Loop (trip count INT64_MAX) is refused with 422 MODEL_LOAD_FAILED, reason TIMEOUT; the server stays live', async () => {
    const upload = publish(server.url, 'advloop', '1', endlessLoopModel());
    const answered = await stayLive(server.url, upload);
    const res = await upload;
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body).toMatchObject({ code: 'MODEL_LOAD_FAILED', details: { reason: 'TIMEOUT', limitMs: 5000 } });
    expect(answered).toBeGreaterThan(3); // health was asked while the Loop ran, and answered each time
    expect((await call(`${server.url}/v1/releases/advloop`)).status).toBe(404); // nothing was stored
    // The child that ran it is gone; the server still publishes real models.
    await waitFor('the sandbox child to be gone', () => childrenOf(server.process.pid!, 'modelTasks').length === 0, { timeoutMs: 10_000 });
    const tiny = new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx'));
    expect((await publish(server.url, 'tiny-again', '1', tiny)).status).toBe(201);
  });

  it('a ConstantOfShape→ReduceSum bomb is refused with 422 MODEL_LOAD_FAILED, reason MEMORY; the server’s own memory stays put', async () => {
    const pid = server.process.pid!;
    // A real model first, so that what publishing itself allocates is in `before`.
    expect((await publish(server.url, 'tiny', '1', new Uint8Array(readFileSync('models/generated/tiny-mlp.onnx')))).status).toBe(201);
    const before = rssBytes(pid);
    let peak = before;
    const upload = publish(server.url, 'bomb', '1', constantMemoryBombModel(2 ** 28)); // 1 GiB of zeros, summed
    const watch = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    try {
      await stayLive(server.url, upload);
    } finally {
      clearInterval(watch);
    }
    const res = await upload;
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body).toMatchObject({ code: 'MODEL_LOAD_FAILED', details: { reason: 'MEMORY', limitBytes: 400 * MiB } });
    console.log(`server RSS ${(before / MiB).toFixed(0)} MiB before, ${(peak / MiB).toFixed(0)} MiB at most during the bomb`);
    expect(peak - before).toBeLessThan(64 * MiB);
  });

  it('SIGTERM stops the server within 10 s while an upload is running, and its sandbox children with it', async () => {
    const pid = server.process.pid!;
    const upload = publish(server.url, 'advloop', '1', endlessLoopModel()).catch((e: Error) => e);
    await waitFor('the publish check to start', () => childrenOf(pid, 'modelTasks').length > 0);
    const children = childrenOf(pid);
    const exited = new Promise<void>((resolve) => server.process.once('exit', () => resolve()));
    server.process.kill('SIGTERM');
    await waitFor('the server to exit', () => server.process.exitCode !== null || server.process.signalCode !== null, {
      timeoutMs: 10_000,
    });
    await exited;
    await waitFor('the sandbox children to be gone', () => !children.some(isAlive), { timeoutMs: 5000 });
    await upload;
  });
});
