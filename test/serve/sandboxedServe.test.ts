// /v2 runs only in sandbox child processes (the real `npm start` process; hostile models written by the ONNX
// encoder and registered in a models folder of their own): a run past its time limit answers 504 TIMEOUT even when
// the idle-socket timeout is shorter, a process past its memory cap answers 422 INFERENCE_FAILED (reason MEMORY),
// each killed process is replaced and never keeps spinning, an answer over the response limit is 413 before it is
// encoded, and the server answers health checks meanwhile.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fillModel, memoryOnDemandModel, tripsLoopModel } from '../sandbox/hostileModels';
import { startAppServer } from '../helpers/appServer';
import type { SpawnedServer } from '../helpers/spawnServer';
import { waitFor } from '../helpers/waitFor';

const MiB = 1024 ** 2;
const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-v2-sandbox-'));

function register(id: string, bytes: Uint8Array, inputs: unknown[], outputs: unknown[]) {
  writeFileSync(path.join(dir, `${id}.onnx`), bytes);
  return {
    id,
    version: '1',
    file: `${id}.onnx`,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes: bytes.byteLength,
    license: 'MIT',
    source: { repoPath: 'test/sandbox/hostileModels.ts' },
    task: 'test',
    description: 'a hostile model for the sandbox tests',
    inputs,
    outputs,
  };
}

function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** The server's /v2 sandbox children (their command line names the task module). */
function poolPids(server: SpawnedServer): number[] {
  try {
    const out = execFileSync('pgrep', ['-P', String(server.process.pid), '-f', 'inferTasks'], { encoding: 'utf8' });
    return out.trim().split('\n').filter(Boolean).map(Number);
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

async function infer(server: SpawnedServer, model: string, inputs: unknown[], extra: Record<string, unknown> = {}) {
  const res = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs, ...extra }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

const trips = (n: number) => [
  { name: 'trips', shape: [], datatype: 'INT64', data: [n] },
  { name: 'x', shape: [1], datatype: 'FP32', data: [7] },
];
const shape = (n: number) => [{ name: 'shape', shape: [1], datatype: 'INT64', data: [n] }];

/** GETs health and the v2 liveness every 100 ms until `until` settles; each must answer 200 within 5 s. */
async function stayLive(url: string, until: Promise<unknown>): Promise<number> {
  let settled = false;
  void until.finally(() => (settled = true));
  let answered = 0;
  while (!settled) {
    for (const p of ['/v1/health', '/v2/health/live']) {
      const res = await fetch(url + p, { signal: AbortSignal.timeout(5000) });
      expect(res.status, p).toBe(200);
      await res.arrayBuffer();
      answered++;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return answered;
}

let server: SpawnedServer;
beforeAll(async () => {
  const registry = [
    register(
      'spin',
      tripsLoopModel(),
      [
        { name: 'trips', type: 'int64', shape: [] },
        { name: 'x', type: 'float32', shape: [1] },
      ],
      [{ name: 'y', type: 'float32', shape: [1] }],
    ),
    register('zeros', memoryOnDemandModel(), [{ name: 'shape', type: 'int64', shape: [1] }], [{ name: 'sum', type: 'float32', shape: [] }]),
    register('fill', fillModel(), [{ name: 'shape', type: 'int64', shape: [1] }], [{ name: 'y', type: 'float32', shape: ['n'] }]),
  ];
  writeFileSync(path.join(dir, 'registry.json'), JSON.stringify(registry));
  server = await startAppServer({
    ONDEVICE_MODELS_DIR: dir,
    ONDEVICE_WORKERS: '1',
    ONDEVICE_RUN_TIMEOUT_MS: '1500',
    // The idle-socket timeout is shorter than a run may take: the client must still get its 504.
    HTTP_IDLE_TIMEOUT_MS: '1000',
    ONDEVICE_MAX_RESPONSE_BYTES: String(MiB),
    ONDEVICE_SANDBOX_MEMORY_BASE_BYTES: String(400 * MiB),
    ONDEVICE_SANDBOX_MEMORY_PER_MODEL_BYTE: '0',
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('/v2 in sandbox children', () => {
  it('a run past its time limit answers 504 TIMEOUT; its process is killed, not left spinning, and replaced', async () => {
    expect((await infer(server, 'spin', trips(1))).json.outputs[0].data).toEqual([7]); // loads the model: warm
    const [before] = poolPids(server);
    const long = infer(server, 'spin', trips(1e12));
    const answered = await stayLive(server.url, long);
    const res = await long;
    expect(res.status, res.text).toBe(504);
    expect(res.json).toMatchObject({ code: 'TIMEOUT', details: { reason: 'TIMEOUT', limitMs: 1500 } });
    expect(answered).toBeGreaterThan(1);
    await waitFor('the overrunning process to be gone', () => !isAlive(before));
    const [after] = await waitFor('its replacement', () => (poolPids(server).length === 1 ? poolPids(server) : undefined));
    expect(after).not.toBe(before);
    expect((await infer(server, 'spin', trips(3))).json.outputs[0].data).toEqual([7]);
  });

  it('a process past its memory cap answers 422 INFERENCE_FAILED, reason MEMORY; the server’s memory stays put', async () => {
    expect((await infer(server, 'zeros', shape(1000))).status).toBe(200);
    const pid = server.process.pid!;
    const before = rssBytes(pid);
    let peak = before;
    const bomb = infer(server, 'zeros', shape(2 ** 30)); // 4 GiB of zeros
    const watch = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
    try {
      await stayLive(server.url, bomb);
    } finally {
      clearInterval(watch);
    }
    const res = await bomb;
    expect(res.status, res.text).toBe(422);
    expect(res.json).toMatchObject({ code: 'INFERENCE_FAILED', details: { reason: 'MEMORY', limitBytes: 400 * MiB } });
    console.log(`server RSS ${(before / MiB).toFixed(0)} MiB before, ${(peak / MiB).toFixed(0)} MiB at most during the bomb`);
    expect(peak - before).toBeLessThan(64 * MiB);
    expect((await infer(server, 'zeros', shape(10))).json.outputs[0].data).toEqual([0]);
  });

  it('an answer over the response limit is 413 RESPONSE_TOO_LARGE, decided before encoding, in JSON and binary', async () => {
    const small = await infer(server, 'fill', shape(1000));
    expect(small.status).toBe(200);
    expect(small.json.outputs[0].data).toHaveLength(1000);
    // 600 000 zeros: at least 1.2 MB as JSON text ("0,"), 2.4 MB as binary data; the limit is 1 MiB.
    const json = await infer(server, 'fill', shape(600_000));
    expect(json.status, json.text.slice(0, 200)).toBe(413);
    expect(json.json).toMatchObject({ code: 'RESPONSE_TOO_LARGE', details: { limitBytes: MiB } });
    expect(json.json.error).toMatch(/at least 1200001 bytes/);
    const binary = await infer(server, 'fill', shape(600_000), { outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    expect(binary.status).toBe(413);
    expect(binary.json.error).toMatch(/at least 2400000 bytes/);
    // Under the limit as binary data (200 000 × 4 bytes), over it as JSON only when the text passes it: this one fits.
    const fits = await infer(server, 'fill', shape(200_000), { outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    expect(fits.status).toBe(200);
  });
});

describe('SIGTERM', () => {
  it('stops the server within 10 s while a /v2 run is stuck, and kills its sandbox children', async () => {
    const stuck = await startAppServer({ ONDEVICE_MODELS_DIR: dir, ONDEVICE_WORKERS: '1', ONDEVICE_RUN_TIMEOUT_MS: '600000' });
    try {
      expect((await infer(stuck, 'spin', trips(1))).status).toBe(200);
      const children = poolPids(stuck);
      const [child] = children;
      const cpuAtRest = cpuSeconds(child);
      const run = infer(stuck, 'spin', trips(1e15)).catch((e: Error) => e);
      await waitFor('the endless run to be spinning', () => cpuSeconds(child) - cpuAtRest > 0.5);
      stuck.process.kill('SIGTERM');
      await waitFor('the server to exit', () => stuck.process.exitCode !== null || stuck.process.signalCode !== null, {
        timeoutMs: 10_000,
      });
      await waitFor('its sandbox children to be gone', () => !children.some(isAlive), { timeoutMs: 5000 });
      await run;
    } finally {
      await stuck.stop();
    }
  });
});

/** CPU time a process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
