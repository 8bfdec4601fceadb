// Runs every vitest project of `npm test`, in lanes side by side: one vitest process per lane, each running its
// files one at a time. A 2-core machine then runs one browser file, one acceptance file (mostly a trainer in a
// child process) and one unit/node file at a time, never two Chromium files against each other. Each line of
// output is prefixed with its lane; the exit code is non-zero when any lane fails.
//   node scripts/runTests.mjs [vitest options…]   (e.g. --reporter=verbose; `{lane}` in an option is the lane's name,
//                                                   as in --reporter=json --outputFile=test-results/{lane}.json)
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const LANES = [
  { name: 'acceptance', projects: ['acceptance'] },
  { name: 'browser', projects: ['browser'] },
  { name: 'node', projects: ['unit', 'node'] },
];
const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname;
const extra = process.argv.slice(2);
const width = Math.max(...LANES.map((l) => l.name.length));

function runLane({ name, projects }) {
  const started = Date.now();
  const args = [vitest, 'run', ...projects.flatMap((p) => ['--project', p]), ...extra.map((a) => a.replaceAll('{lane}', name))];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const prefix = `[${name.padEnd(width)}] `;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ name, code: code ?? 1, signal, seconds: (Date.now() - started) / 1000 }));
  });
}

const results = await Promise.all(LANES.map(runLane));
console.log('');
for (const r of results) {
  const outcome = r.code === 0 ? 'passed' : r.signal ? `killed by ${r.signal}` : `failed (exit ${r.code})`;
  console.log(`${r.name.padEnd(width)}  ${outcome} in ${r.seconds.toFixed(0)} s`);
}
process.exitCode = results.some((r) => r.code !== 0) ? 1 : 0;
