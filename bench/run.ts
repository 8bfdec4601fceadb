// `npm run bench`: every benchmark, each against a baseline measured in the same run.
import { mkdir, writeFile } from 'node:fs/promises';
import { printRuntimeBench, runRuntimeBench } from './runtimeBench';

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

await mkdir('bench-results', { recursive: true });
const summary: Record<string, unknown> = { date: new Date().toISOString(), cores: (await import('node:os')).cpus().length };

if (want('runtime')) {
  const runtime = await runRuntimeBench();
  printRuntimeBench(runtime);
  summary.runtime = runtime;
  await writeFile('bench-results/runtime.json', JSON.stringify(runtime, null, 2));
}

await writeFile('bench-results/summary.json', JSON.stringify(summary, null, 2));
console.log('\nwrote bench-results/');
