// A sabotaged trainer for the acceptance test: it shuffles the labels of the field samples, then hands the
// dataset to a real trainer. The gate must stop what comes out.
//   node --import tsx test/acceptance/shuffledLabelsTrainer.ts -- <real trainer argv…> --dataset <dir> --out <dir>
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../../src/core/mulberry32';

const args = process.argv.slice(2);
const dataset = args[args.indexOf('--dataset') + 1];
const out = args[args.indexOf('--out') + 1];
const inner = args.slice(args.indexOf('--') + 1, args.indexOf('--dataset'));
if (!dataset || !out || inner.length === 0) throw new Error('usage: -- <trainer argv…> --dataset <dir> --out <dir>');

const copy = mkdtempSync(path.join(tmpdir(), 'ondevice-shuffled-'));
for (const f of ['manifest.json', 'current.onnx']) copyFileSync(path.join(dataset, f), path.join(copy, f));
const lines = readFileSync(path.join(dataset, 'field-train.jsonl'), 'utf8').split('\n').filter(Boolean);
const samples = lines.map((l) => JSON.parse(l) as { label: unknown });
const labels = samples.map((s) => s.label);
const random = mulberry32(13);
for (let i = labels.length - 1; i > 0; i--) {
  const j = Math.floor(random() * (i + 1));
  [labels[i], labels[j]] = [labels[j], labels[i]];
}
writeFileSync(path.join(copy, 'field-train.jsonl'), samples.map((s, i) => `${JSON.stringify({ ...s, label: labels[i] })}\n`).join(''));
console.log(`shuffled the labels of ${samples.length} field samples`);
const run = spawnSync(inner[0], [...inner.slice(1), '--dataset', copy, '--out', out], { stdio: 'inherit' });
process.exit(run.status ?? 1);
