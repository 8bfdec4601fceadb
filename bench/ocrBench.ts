// Can OCR read a dense page faster? The demo's OCR of the dense page (test/fixtures/ocr-dense.png, 80 lines) in real
// Chromium, through the app's OCR tab, line by line (the baseline) vs batched recognition, interleaved
// round by round in one run so load from elsewhere on the shared machine hits every mode alike.
// `BENCH_OCR_ROUNDS` (default 3), `BENCH_OCR_MODES` (default "6,parallel": the OCR tab's readings besides line by line —
// batches of 6, and line by line over a pool of workers, one per free core).
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { cer } from '../src/app/ocr/cer';
import { launchChromium } from '../test/helpers/chromium';
import { startAppServer } from '../test/helpers/appServer';
import { openOcrTab, readWithOcrTab, type OcrTabReading } from '../test/helpers/readWithOcrTab';

const ROUNDS = Number(process.env.BENCH_OCR_ROUNDS ?? 3);
const MODES = (process.env.BENCH_OCR_MODES ?? process.env.BENCH_OCR_BATCHES ?? '6,parallel').split(',');
const FIXTURE = 'test/fixtures/ocr-dense.png';

export interface OcrModeResult {
  /** The OCR tab's "Read lines" value: '1' (line by line), a batch size, or 'parallel'. */
  mode: string;
  recBatchSize: number;
  /** Medians over rounds, in the pipeline worker (ms). */
  totalMs: number;
  detectMs: number;
  classifyMs: number;
  recognizeMs: number;
  /** Character error rate of the last round (every round reads the same text). */
  cer: number;
  lines: number;
  /** Line-by-line total / this mode's total, median of the per-round ratios. */
  speedUp: number;
}

export interface OcrBenchResult {
  fixture: string;
  rounds: number;
  modes: OcrModeResult[];
  loadAverage: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function runOcrBench(): Promise<OcrBenchResult> {
  const expected = (JSON.parse(readFileSync(FIXTURE.replace(/\.png$/, '.json'), 'utf8')) as { lines: string[] }).lines.join('\n');
  const server = await startAppServer();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await openOcrTab(page, server.url);
    const modes = ['1', ...MODES.filter((m) => m !== '1')];
    // One untimed read per mode first: it warms each model on the page's real shapes (and starts the pool of workers).
    for (const mode of modes) await readWithOcrTab(page, FIXTURE, mode);
    const readings = new Map<string, OcrTabReading[]>(modes.map((m) => [m, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of modes) readings.get(mode)!.push(await readWithOcrTab(page, FIXTURE, mode));
    }
    const baseline = readings.get('1')!;
    const results = modes.map((mode): OcrModeResult => {
      const runs = readings.get(mode)!;
      const last = runs[runs.length - 1];
      const m = (key: keyof OcrTabReading['timings']) => median(runs.map((r) => r.timings[key]));
      return {
        mode,
        recBatchSize: last.recBatchSize,
        totalMs: m('totalMs'),
        detectMs: m('detectMs'),
        classifyMs: m('classifyMs'),
        recognizeMs: m('recognizeMs'),
        cer: cer(expected, last.lines.join('\n')),
        lines: last.lines.length,
        speedUp: median(runs.map((r, i) => baseline[i].timings.totalMs / r.timings.totalMs)),
      };
    });
    return { fixture: FIXTURE, rounds: ROUNDS, modes: results, loadAverage: loadavg() };
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
}

export function printOcrBench(r: OcrBenchResult): void {
  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log(`\nOCR of the dense page (${r.fixture}, median of ${r.rounds} rounds, WASM, in the pipeline worker)`);
  console.log('| recognition | total s | detect s | direction s | recognise s | CER | lines | speed-up vs line by line |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const m of r.modes) {
    const mode =
      m.mode === 'parallel'
        ? 'line by line, on every core (runBatch)'
        : m.recBatchSize === 1
          ? 'line by line'
          : `batches of ${m.recBatchSize}`;
    console.log(
      `| ${mode} | ${s(m.totalMs)} | ${s(m.detectMs)} | ${s(m.classifyMs)} | ${s(m.recognizeMs)} | ${(m.cer * 100).toFixed(2)}% | ${m.lines} | ${m.speedUp.toFixed(2)}× |`,
    );
  }
  console.log(`load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')}`);
}
