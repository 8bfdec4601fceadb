import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { driftedDigits } from '../../src/retrain/digits/drift';
import { evaluateDigits } from '../../src/retrain/digits/evaluateOnnx';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';

const run = promisify(execFile);
const temp = mkdtempSync(join(tmpdir(), 'ondevice-digits-trainer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const TRAINER = 'src/retrain/digits/trainerCommand.ts';
const spec = { name: 'image', type: 'float32', shape: ['batch', 1, 28, 28] };

function dataset(name: string, manifest: object, lines: string[]): string {
  const dir = join(temp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(dir, 'field-train.jsonl'), lines.map((l) => `${l}\n`).join(''));
  return dir;
}

/** A line of the collector's dataset export (GET /v1/datasets/digits). */
function exportLine(i: number, label: number | string, data: number[], dims = [1, 1, 28, 28]): string {
  return JSON.stringify({
    id: `s${i}`,
    receivedMs: 1_700_000_000_000 + i,
    installId: 'install',
    modelId: 'digits',
    modelVersion: '1',
    predictionId: `p${i}`,
    label,
    inputs: { image: { type: 'float32', dims, data } },
  });
}

async function trainer(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', TRAINER, ...args], { timeout: 4 * 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the digits trainer command (trainer contract)', () => {
  it(
    'trains on MNIST + the field samples and writes model.onnx and metrics.json',
    async () => {
      const field = driftedDigits(120, 5, 'train');
      const lines = field.map((s, i) => exportLine(i, i % 2 ? s.label : String(s.label), Array.from(s.pixels)));
      // Not digit samples: counted and left out, never trained on silently.
      lines.push(exportLine(900, 3, Array.from(field[0].pixels), [1, 784]), exportLine(901, 12, Array.from(field[0].pixels)), '{not json');
      const dir = dataset('ok', { model: 'digits', baseVersion: '1', inputs: [spec], outputs: [], fieldTrainCount: 123 }, lines);
      const out = join(temp, 'ok-out');
      const result = await trainer(['--dataset', dir, '--out', out, '--epochs', '1', '--max-base-samples', '800']);
      expect(result.stderr).not.toMatch(/digits trainer:/);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('skipped 3 field-train.jsonl lines');
      const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<string, number>;
      expect(metrics).toMatchObject({
        init: 'scratch',
        trainSamples: 920,
        baseSamples: 800,
        fieldSamples: 120,
        skippedFieldLines: 3,
        epochs: 1,
        // From scratch: digits@1's recipe.
        learningRate: 0.003,
        schedule: 'constant',
      });
      expect(result.stdout).toContain('current.onnx is missing: training from scratch');
      expect(metrics.trainAccuracy).toBeGreaterThan(0.3);
      expect(metrics.durationMs).toBeGreaterThan(0);
      const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
      try {
        expect(session.inputNames).toEqual(['image']);
        expect(session.outputNames).toEqual(['probabilities']);
        const result = await session.run({ image: new ort.Tensor('float32', field[0].pixels, [1, 1, 28, 28]) });
        expect(result.probabilities.dims).toEqual([1, 10]);
      } finally {
        await session.release();
      }
    },
    5 * 60_000,
  );

  it(
    'fine-tunes current.onnx (init: current), and trains from scratch with --init scratch',
    async () => {
      const field = driftedDigits(100, 6, 'train');
      const dir = dataset(
        'current',
        { model: 'digits', baseVersion: '1', inputs: [spec], outputs: [], fieldTrainCount: 100 },
        field.map((s, i) => exportLine(i, s.label, Array.from(s.pixels))),
      );
      writeFileSync(join(dir, 'current.onnx'), readFileSync('models/trained/digits-1.onnx'));
      const heldOut = mnistSplit().heldOut.filter((_, i) => i % 4 === 0);
      const accuracy = async (init: string) => {
        const out = join(temp, `current-out-${init}`);
        const result = await trainer(['--dataset', dir, '--out', out, '--init', init, '--epochs', '1', '--max-base-samples', '300']);
        expect(result.code, result.stderr).toBe(0);
        const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
        expect(metrics.init).toBe(init);
        // Fine-tuning defaults to a warmed-up, cosine-decayed learning rate; from scratch to a constant one.
        expect(metrics).toMatchObject({ learningRate: 0.003, schedule: init === 'current' ? 'cosine' : 'constant' });
        return (await evaluateDigits(new Uint8Array(readFileSync(join(out, 'model.onnx'))), heldOut)).accuracy;
      };
      // 400 samples, one epoch: only a model that starts from v1's weights keeps MNIST's accuracy.
      expect(await accuracy('current')).toBeGreaterThan(0.93);
      expect(await accuracy('scratch')).toBeLessThan(0.9);
    },
    5 * 60_000,
  );

  it('exits 1 without output for a dataset of another model, or without --out', async () => {
    const dir = dataset('other', { model: 'tiny-mlp', baseVersion: '1', inputs: [], outputs: [], fieldTrainCount: 0 }, []);
    const out = join(temp, 'other-out');
    const wrongModel = await trainer(['--dataset', dir, '--out', out, '--epochs', '1']);
    expect(wrongModel.code).toBe(1);
    expect(wrongModel.stderr).toContain('this trainer trains "digits"');
    expect(existsSync(join(out, 'model.onnx'))).toBe(false);
    const noOut = await trainer(['--dataset', dir]);
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('usage:');
    const badSchedule = await trainer(['--dataset', dir, '--out', out, '--schedule', 'linear']);
    expect(badSchedule.code).toBe(1);
    expect(badSchedule.stderr).toContain('--schedule must be constant or cosine, got linear');
  });
});
