// `npm run bench`: every benchmark, each against a baseline measured in the same run.
// `npm run bench -- runtime warm-start first-result optimized ingest serve run-batch summary ocr` picks some; `threads` and
// `wasm-compile` run only when named.
import { cpus, loadavg } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { runIngestBench } from './ingest';
import { runFleetIngestBench } from './fleetIngest';
import { runServeBench } from './serve';
import { runSummaryBench } from './summary';
import { printRuntimeBench, printThreadsBench, runRuntimeBench, runThreadsBench } from './runtimeBench';
import { printWarmStartBench, runWarmStartBench } from './warmStart';
import { printRunBatchBench, runRunBatchBench } from './runBatchBench';
import { printOcrBench, runOcrBench } from './ocrBench';
import { printOptimizedModelsBench, runOptimizedModelsBench } from './optimizedModels';
import { printWasmCompileBench, runWasmCompileBench } from './wasmCompile';
import { runFirstResultBench } from './firstResult';
import { printBigModelsBench, runBigModelsBench } from './bigModels';
import { printQuantizedFormatsBench, runQuantizedFormatsBench } from './quantizedFormats';
import { printWasmCeilingBench, runWasmCeilingBench } from './wasmCeiling';
import { printReleaseFilesBench, runReleaseFilesBench } from './releaseFiles';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

await mkdir('bench-results', { recursive: true });
const summary: Record<string, unknown> = { date: new Date().toISOString(), cpus: cpus().length, loadAverageAtStart: loadavg()[0] };

if (want('runtime')) {
  const runtime = await runRuntimeBench();
  printRuntimeBench(runtime);
  summary.runtime = runtime;
  await writeFile('bench-results/runtime.json', JSON.stringify(runtime, null, 2));
}

if (want('warm-start')) {
  const warm = await runWarmStartBench();
  printWarmStartBench(warm);
  summary.warmStart = warm;
  await writeFile('bench-results/warm-start.json', JSON.stringify(warm, null, 2));
}

if (want('first-result')) {
  // Models by URL with default options, navigation → first result, against bare and naive onnxruntime-web (it prints as it goes).
  const firstResult = await runFirstResultBench();
  summary.firstResult = firstResult;
  await writeFile('bench-results/first-result.json', JSON.stringify(firstResult, null, 2));
}

if (want('optimized')) {
  const optimized = await runOptimizedModelsBench();
  printOptimizedModelsBench(optimized);
  summary.optimized = optimized;
  await writeFile('bench-results/optimized.json', JSON.stringify(optimized, null, 2));
}

if (want('ingest')) {
  summary.ingest = await runIngestBench();
  // Several instances on one PostgreSQL (docs/deployment.md); `ingest-fleet` runs it alone.
  summary.ingestFleet = await runFleetIngestBench();
} else if (want('ingest-fleet')) {
  summary.ingestFleet = await runFleetIngestBench();
}

if (want('serve')) {
  // A model that computes for milliseconds, then a sub-millisecond one where HTTP and batching matter most.
  const serve = [await runServeBench(), await runServeBench({ model: 'tiny-mlp', requests: 2000, batchRows: 0 })];
  summary.serve = serve;
  await writeFile('bench-results/serve.json', JSON.stringify(serve, null, 2));
}

if (want('run-batch')) {
  const runBatch = await runRunBatchBench();
  printRunBatchBench(runBatch);
  summary.runBatch = runBatch;
  await writeFile('bench-results/run-batch.json', JSON.stringify(runBatch, null, 2));
}

if (want('summary')) {
  // PostgreSQL summary/dashboard latency at 1 M and 10 M events, rollups vs raw events (bench/summary.ts).
  summary.summaryLatency = await runSummaryBench();
}

if (want('ocr')) {
  const ocr = await runOcrBench();
  printOcrBench(ocr);
  summary.ocr = ocr;
  await writeFile('bench-results/ocr.json', JSON.stringify(ocr, null, 2));
}

// Only when asked for (`npm run bench -- threads`): ondevice at 1 and 2 threads (BENCH_THREADS_COMPARE), interleaved.
if (only.includes('threads')) {
  const counts = (process.env.BENCH_THREADS_COMPARE ?? '1,2').split(',').map(Number);
  const threads = await runThreadsBench(process.env.BENCH_THREADS_MODEL ?? 'ppocr-v4-det', counts);
  printThreadsBench(threads);
  summary.threads = threads;
  await writeFile('bench-results/threads.json', JSON.stringify(threads, null, 2));
}

// Only when asked for (`npm run bench -- wasm-compile`): a measurement for the JSPI lever, not a target.
if (only.includes('wasm-compile')) {
  const wasmCompile = await runWasmCompileBench();
  printWasmCompileBench(wasmCompile);
  summary.wasmCompile = wasmCompile;
  await writeFile('bench-results/wasm-compile.json', JSON.stringify(wasmCompile, null, 2));
}

// Only when asked for (`npm run bench -- quantized`): which quantized formats the WASM kernels run.
if (only.includes('quantized')) {
  const quantized = await runQuantizedFormatsBench();
  printQuantizedFormatsBench(quantized);
  summary.quantized = quantized;
  await writeFile('bench-results/quantized.json', JSON.stringify(quantized, null, 2));
}

// Only when asked for (`npm run bench -- ceiling`): the largest set the WASM heap holds, per precision (bisection).
if (only.includes('ceiling')) {
  const ceiling = await runWasmCeilingBench();
  printWasmCeilingBench(ceiling);
  summary.ceiling = ceiling;
  await writeFile('bench-results/ceiling.json', JSON.stringify(ceiling, null, 2));
}

// Only when asked for (`npm run bench -- big`): 400 MB and 2.5 GB models, minutes and gigabytes of memory.
if (only.includes('big')) {
  const big = await runBigModelsBench();
  printBigModelsBench(big);
  summary.big = big;
  await writeFile('bench-results/big.json', JSON.stringify(big, null, 2));
}

// Only when asked for (`npm run bench -- release-files`, or with `big`): gigabytes through the release server.
if (only.includes('release-files') || only.includes('big')) {
  const releaseFiles = await runReleaseFilesBench();
  printReleaseFilesBench(releaseFiles);
  summary.releaseFiles = releaseFiles;
  await writeFile('bench-results/release-files.json', JSON.stringify(releaseFiles, null, 2));
}

// Only when asked for (`npm run bench -- acceptance-big`): the 2.5 GB set published, rolled out, resumed, run and served.
if (only.includes('acceptance-big')) await import('./acceptanceBig');

await writeFile('bench-results/summary.json', JSON.stringify(summary, null, 2));
console.log('\nwrote bench-results/');
