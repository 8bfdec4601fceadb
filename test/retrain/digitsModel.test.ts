import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../../scripts/onnx/sha256File';
import { driftedDigits } from '../../src/retrain/digits/drift';
import { evaluateDigits } from '../../src/retrain/digits/evaluateOnnx';
import { mnistSplit } from '../../src/retrain/digits/mnistSplit';
import { parseRegistry } from '../../src/registry/parseRegistry';

const MODEL = 'models/trained/digits-1.onnx';

// The committed v1 (npm run models:train-digits): what the demo tab and the retraining loop start from.
describe('the committed digits model', () => {
  const onnx = new Uint8Array(readFileSync(MODEL));

  it('is the registry entry digits@1, trained here (MIT), with its sha256', async () => {
    const entry = parseRegistry(readFileSync('models/registry.json', 'utf8')).find((e) => e.id === 'digits' && e.version === '1');
    expect(entry).toMatchObject({
      file: 'digits-1.onnx',
      license: 'MIT',
      source: { trainer: 'scripts/models-train-digits.ts' },
      task: 'image-classification',
      inputs: [{ name: 'image', type: 'float32', shape: ['batch', 1, 28, 28] }],
      outputs: [{ name: 'probabilities', type: 'float32', shape: ['batch', 10] }],
    });
    expect(await sha256File(MODEL)).toEqual({ sha256: entry?.sha256, bytes: entry?.bytes });
  });

  it('reaches 97 % on the held-back MNIST digits and falls below 80 % on drifted ones', async () => {
    const held = await evaluateDigits(onnx, mnistSplit().heldOut);
    const drifted = await evaluateDigits(onnx, driftedDigits(1000, 1, 'heldOut'));
    expect(held.count).toBe(1996);
    expect(held.accuracy).toBeGreaterThanOrEqual(0.97);
    expect(drifted.accuracy).toBeLessThan(0.8);
    expect(held.accuracy - drifted.accuracy).toBeGreaterThan(0.15);
  });
});
