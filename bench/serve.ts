// Serve benchmark: the Open Inference Protocol server (a real `ondevice serve` process, binary tensor data,
// keep-alive connections at a fixed concurrency) with 1 and N workers and dynamic batching on/off, beside a plain onnxruntime-node
// loop on the same model in the same run; and `ondevice batch` rows/s beside a plain sequential
// `session.run` loop over the same JSONL file. `npm run bench -- serve`; writes bench-results/serve.json.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { percentile } from '../src/collector/percentile';
import { spawnServer } from '../test/helpers/spawnServer';

export interface ServeBenchOptions {
  model?: string;
  /** Requests in flight at once. */
  concurrency?: number;
  requests?: number;
  warmup?: number;
  /** N in "1 vs N workers". Default: the number of cores. */
  workers?: number;
  /** Rows for the `ondevice batch` phase; 0 skips it. */
  batchRows?: number;
}

interface Phase {
  label: string;
  requests: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  errors: number;
}

export interface ServeBenchResult {
  model: string;
  input: number[];
  concurrency: number;
  cores: number;
  loadAverageAtStart: number;
  plainOrt: Phase;
  server: Phase[];
  batch?: { rows: number; cli: { seconds: number; rowsPerSecond: number }; plainLoop: { seconds: number; rowsPerSecond: number } };
}

const SHAPES: Record<string, number[]> = { 'ppocr-v2-cls': [1, 3, 48, 192], 'tiny-mlp': [1, 16] };

function summarize(label: string, latencies: number[], seconds: number, errors: number): Phase {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    label,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) },
    errors,
  };
}

async function plainOrtLoop(file: string, shape: number[], n: number, warmup: number): Promise<Phase> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await session.run(feeds);
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - t0) / 1000;
  await session.release();
  return summarize('plain onnxruntime-node loop (1 thread, sequential)', latencies, seconds, 0);
}

function post(agent: Agent, url: URL, head: Buffer, payload: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: {
        'inference-header-content-length': String(head.byteLength),
        'content-length': String(head.byteLength + payload.byteLength),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(Buffer.concat([head, payload]));
  });
}

async function serverPhase(o: Required<ServeBenchOptions>, shape: number[], workers: number, batching = false): Promise<Phase> {
  const server = await spawnServer(process.execPath, ['bin/ondevice.mjs', 'serve', '--workers', String(workers)], {
    env: {
      ONDEVICE_QUEUE_LIMIT: String(4 * o.concurrency),
      ...(batching ? { ONDEVICE_BATCH_MAX: String(o.concurrency), ONDEVICE_BATCH_DELAY_MS: '2' } : {}),
    },
  });
  try {
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
    const payload = Buffer.from(data.buffer);
    const head = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape, datatype: 'FP32', parameters: { binary_data_size: payload.byteLength } }],
        parameters: { binary_data_output: true },
      }),
    );
    const url = new URL(`/v2/models/${o.model}/infer`, server.url);
    const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
    const run = async (count: number, latencies: number[]) => {
      let next = 0;
      let errors = 0;
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          while (next++ < count) {
            const t = performance.now();
            const status = await post(agent, url, head, payload);
            if (status !== 200) errors++;
            latencies.push(performance.now() - t);
          }
        }),
      );
      return errors;
    };
    await run(o.warmup * workers, []); // every worker loads the model
    const latencies: number[] = [];
    const t0 = performance.now();
    const errors = await run(o.requests, latencies);
    const seconds = (performance.now() - t0) / 1000;
    agent.destroy();
    return summarize(
      `ondevice serve, ${workers} worker${workers > 1 ? 's' : ''}${batching ? ', dynamic batching (≤ 8 rows, 2 ms)' : ''}`,
      latencies,
      seconds,
      errors,
    );
  } finally {
    await server.stop();
  }
}

async function batchPhase(rows: number): Promise<ServeBenchResult['batch']> {
  const dir = mkdtempSync(join(tmpdir(), 'ondevice-bench-batch-'));
  try {
    const input = join(dir, 'in.jsonl');
    const lines = Array.from({ length: rows }, (_, r) =>
      JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 16], datatype: 'FP32', data: Array.from({ length: 16 }, (_, k) => Math.sin(r + k)) }],
      }),
    );
    writeFileSync(input, lines.join('\n') + '\n');
    const t0 = performance.now();
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(
        process.execPath,
        ['bin/ondevice.mjs', 'batch', '--model', 'tiny-mlp', '--input', input, '--output', join(dir, 'out.jsonl'), '--concurrency', '4'],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`ondevice batch exited with ${code}`);
    const cliSeconds = (performance.now() - t0) / 1000;
    // The baseline does what the CLI does per row, minus the CLI: parse, run, serialize, write.
    const t1 = performance.now();
    const session = await ort.InferenceSession.create('public/models/tiny-mlp.onnx', { intraOpNumThreads: 1 });
    const out: string[] = [];
    for (const line of readFileSync(input, 'utf8').trim().split('\n')) {
      const req = JSON.parse(line) as { inputs: { shape: number[]; data: number[] }[] };
      const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(req.inputs[0].data), req.inputs[0].shape) });
      out.push(JSON.stringify({ outputs: [{ name: 'probs', data: Array.from(result.probs.data as Float32Array) }] }));
    }
    writeFileSync(join(dir, 'plain.jsonl'), out.join('\n') + '\n');
    await session.release();
    const plainSeconds = (performance.now() - t1) / 1000;
    return {
      rows,
      cli: { seconds: cliSeconds, rowsPerSecond: rows / cliSeconds },
      plainLoop: { seconds: plainSeconds, rowsPerSecond: rows / plainSeconds },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runServeBench(options: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const o: Required<ServeBenchOptions> = {
    model: 'ppocr-v2-cls',
    concurrency: 8,
    requests: 400,
    warmup: 20,
    workers: availableParallelism(),
    batchRows: 2000,
    ...options,
  };
  const shape = SHAPES[o.model];
  const loadAverageAtStart = loadavg()[0];
  const plainOrt = await plainOrtLoop(`public/models/${readModelFile(o.model)}`, shape, o.requests, o.warmup);
  const server = [await serverPhase(o, shape, 1)];
  if (o.workers > 1) server.push(await serverPhase(o, shape, o.workers));
  server.push(await serverPhase(o, shape, o.workers, true));
  const batch = o.batchRows > 0 ? await batchPhase(o.batchRows) : undefined;
  const result: ServeBenchResult = {
    model: o.model,
    input: shape,
    concurrency: o.concurrency,
    cores: availableParallelism(),
    loadAverageAtStart,
    plainOrt,
    server,
    batch,
  };
  printServeBench(result);
  return result;
}

function readModelFile(id: string): string {
  const registry = JSON.parse(readFileSync('public/models/registry.json', 'utf8')) as { id: string; file: string }[];
  return registry.find((e) => e.id === id)!.file;
}

export function printServeBench(r: ServeBenchResult): void {
  console.log(
    `\nServe (${r.model} ${r.input.join('×')}, concurrency ${r.concurrency}, ${r.cores} cores, load ${r.loadAverageAtStart.toFixed(2)})`,
  );
  console.log('| what | requests/s | p50 ms | p99 ms | errors | ÷ plain ORT |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const p of [r.plainOrt, ...r.server]) {
    const ratio = p.perSecond / r.plainOrt.perSecond;
    console.log(
      `| ${p.label} | ${p.perSecond.toFixed(1)} | ${p.latencyMs.p50.toFixed(2)} | ${p.latencyMs.p99.toFixed(2)} | ${p.errors} | ${ratio.toFixed(2)} |`,
    );
  }
  const b = r.batch;
  if (!b) return;
  console.log(
    `\nBatch (tiny-mlp, ${b.rows} rows): ondevice batch ${b.cli.rowsPerSecond.toFixed(0)} rows/s (${b.cli.seconds.toFixed(2)} s, process start and model load included) vs plain sequential session.run loop ${b.plainLoop.rowsPerSecond.toFixed(0)} rows/s → ${(b.cli.rowsPerSecond / b.plainLoop.rowsPerSecond).toFixed(2)}`,
  );
}
