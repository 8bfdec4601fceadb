// Federated fine-tuning of the digits head without the browser and the server, to choose and check its recipe:
//   npx tsx scripts/digits-federated-sweep.ts [--seeds 1,2,3] [--poisoned 0,2,10] [--rounds n] [--epochs n]
//        [--learning-rate x] [--clip-norm x] [--trim x] [--base-per-round n] [--config config/retrain.json] [--samples]
// It runs the real job (src/federated/runFederatedJob.ts: rounds in a SQLite round store, robust aggregation, the
// base training shard, the evaluation round, the gate) with 20 simulated installs of 30 drawings each from
// federatedPopulation(20, 30, seed) (half in the corner drift, half plain), each computing its update with the
// maths of the page's worker (scripts/federated/simulatedClient.ts) on features from onnxruntime-node. A poisoned
// install reports permuted labels and scales its update ×10. Each line: the gate's figures and, for the candidate,
// the points gained on cornerDigits(500, 99, 'heldOut') and MNIST's held-out split (drawings no client had).
// --samples instead runs the sample-based job (src/retrain/runRetrainJob.ts with the shipped trainer) on the same
// drawings uploaded as consented samples: the comparison of the two modes on the same drift and data.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { openSqliteDatabase } from '../src/db/openSqliteDatabase';
import { FederatedRounds } from '../src/federated/FederatedRounds';
import { runFederatedJob } from '../src/federated/runFederatedJob';
import { SqliteRoundStore } from '../src/federated/SqliteRoundStore';
import { evaluateBaseInSandbox } from '../src/federated/evaluateBaseInSandbox';
import { computeFeaturesInSandbox } from '../src/federated/computeFeaturesInSandbox';
import { readTrainableHead, withFeaturesOutput } from '../src/node/onnx/trainableHead';
import { cornerDigits } from '../src/retrain/digits/drift';
import { evaluateDigits } from '../src/retrain/digits/evaluateOnnx';
import { federatedPopulation } from '../src/retrain/digits/federatedPopulation';
import { mnistSplit, type DigitSample } from '../src/retrain/digits/mnistSplit';
import type { FieldSample } from '../src/retrain/FieldSample';
import { loadRetrainConfig, type ModelRetrainConfig } from '../src/retrain/retrainConfig';
import { runRetrainJob, type JobOutcome } from '../src/retrain/runRetrainJob';
import { simulatedUpdate, type ClientData } from './federated/simulatedClient';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1' },
    poisoned: { type: 'string', default: '0' },
    rounds: { type: 'string' },
    epochs: { type: 'string' },
    'learning-rate': { type: 'string' },
    'clip-norm': { type: 'string' },
    trim: { type: 'string' },
    'base-per-round': { type: 'string' },
    config: { type: 'string', default: 'config/retrain.json' },
    samples: { type: 'boolean', default: false },
  },
});
const shipped = (await loadRetrainConfig(values.config)).models.digits;
if (!shipped) throw new Error(`${values.config} configures no digits model`);
const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const federatedConfig: ModelRetrainConfig = {
  ...shipped,
  mode: 'federated',
  minFieldSamples: 100,
  federated: {
    ...shipped.federated,
    rounds: num(values.rounds) ?? shipped.federated.rounds,
    epochs: num(values.epochs) ?? shipped.federated.epochs,
    learningRate: num(values['learning-rate']) ?? shipped.federated.learningRate,
    clipNorm: num(values['clip-norm']) ?? shipped.federated.clipNorm,
    trimFraction: num(values.trim) ?? shipped.federated.trimFraction,
    targetClients: 20,
    minClients: 20,
    roundTimeoutMs: 600_000,
    baseTraining:
      values['base-per-round'] === '0'
        ? undefined
        : { set: 'digits', examplesPerRound: num(values['base-per-round']) ?? shipped.federated.baseTraining?.examplesPerRound ?? 300 },
  },
};

const PERMUTATION = [3, 7, 0, 9, 5, 1, 8, 2, 6, 4];
const v1 = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
const head = readTrainableHead(v1, { features: 'flat', weight: 'dense_w', bias: 'dense_b' });
const variant = withFeaturesOutput(v1, head);
const heldOutDrift = cornerDigits(500, 99, 'heldOut');
const plain = mnistSplit().heldOut;
const pts = async (model: Uint8Array, samples: DigitSample[]) => (await evaluateDigits(model, samples)).accuracy * 100;
const reference = { drift: await pts(v1, heldOutDrift), plain: await pts(v1, plain) };
console.log(`v1: held-out corner drift ${reference.drift.toFixed(2)} %, MNIST held-out ${reference.plain.toFixed(2)} %`);
const fmt = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;

async function report(what: string, outcome: JobOutcome, candidate: Uint8Array | undefined, ms: number) {
  const m = outcome.metrics as { gate?: { baseDeltaPoints: number; fieldDeltaPoints: number }; fieldAccuracy?: { count: number } } | null;
  const gate = m?.gate
    ? `gate: base ${fmt(m.gate.baseDeltaPoints)}, field ${fmt(m.gate.fieldDeltaPoints)} on ${m.fieldAccuracy?.count}`
    : '';
  const held = candidate
    ? `; held-out corner drift ${fmt((await pts(candidate, heldOutDrift)) - reference.drift)}, MNIST ${fmt((await pts(candidate, plain)) - reference.plain)} points`
    : '';
  console.log(`${what}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}; ${gate}${held}; ${Math.round(ms / 1000)} s`);
}

async function clientsOf(population: DigitSample[][], poisoned: number): Promise<ClientData[]> {
  const session = await ort.InferenceSession.create(variant, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    return await Promise.all(
      population.map(async (drawings, c) => {
        const pixels = new Float32Array(drawings.length * 784);
        drawings.forEach((d, i) => pixels.set(d.pixels, i * 784));
        const out = await session.run({ image: new ort.Tensor('float32', pixels, [drawings.length, 1, 28, 28]) });
        const probabilities = out.probabilities.data as Float32Array;
        return {
          installId: `install-${c}`,
          features: out.flat.data as Float32Array,
          labels: drawings.map((d) => (c < poisoned ? PERMUTATION[d.label] : d.label)),
          // The page holds back by a hash of each example's id; here every fifth drawing.
          heldBack: drawings.map((_, i) => i % 5 === 4),
          current: drawings.map((_, i) => {
            const p = probabilities.subarray(i * 10, (i + 1) * 10);
            return p.indexOf(Math.max(...p));
          }),
        };
      }),
    );
  } finally {
    await session.release();
  }
}

async function federatedRun(seed: number, poisoned: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'ondevice-federated-sweep-'));
  const db = openSqliteDatabase(path.join(dir, 'rounds.sqlite'));
  try {
    const store = new SqliteRoundStore(db);
    const rounds = new FederatedRounds(store);
    const clients = await clientsOf(federatedPopulation(20, 30, seed), poisoned);
    let done = false;
    const answering = (async () => {
      while (!done) {
        for (const [c, client] of clients.entries()) {
          const offer = await rounds.offerFor('digits', client.installId);
          if (!offer) continue;
          const update = simulatedUpdate(client, offer, (u) => {
            if (c < poisoned) for (const a of [u.dW, u.db]) a.forEach((x, j) => (a[j] = x * 10));
          });
          const found = await rounds.roundForUpdate('digits', offer.roundId);
          await rounds.acceptUpdate(found.round, JSON.stringify(update), client.installId);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    let candidate: Uint8Array | undefined;
    const started = Date.now();
    const outcome = await runFederatedJob({
      jobId: `sweep-${seed}-${poisoned}`,
      modelId: 'digits',
      config: federatedConfig,
      pollMs: 20,
      log: (line) => process.env.VERBOSE && console.log(`  ${line}`),
      ports: {
        releases: {
          current: async () => ({ version: '1', bytes: v1, inputs: [], outputs: [], versions: ['1'] }),
          publish: async (p) => void (candidate = p.bytes),
          startRollout: async () => 1,
        },
        trainable: async () => ({
          trainable: {
            features: 'flat',
            weight: 'dense_w',
            bias: 'dense_b',
            featureCount: head.featureCount,
            classes: head.classes,
            output: head.output,
            variant: { url: '/variant.onnx', sha256: createHash('sha256').update(variant).digest('hex'), bytes: variant.byteLength },
          },
          variantBytes: async () => variant,
        }),
        rounds: store,
        evaluateBase: (models, examples) => evaluateBaseInSandbox(models, examples),
        features: (bytes, examples, name, count) => computeFeaturesInSandbox(bytes, examples, name, count),
      },
    });
    done = true;
    await answering;
    await report(`federated, seed ${seed}, ${poisoned} of 20 poisoned`, outcome, candidate, Date.now() - started);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function samplesRun(seed: number) {
  const population = federatedPopulation(20, 30, seed).flat();
  // Uploaded in the order the installs drew them; the job holds back the most recent fifth.
  const samples: FieldSample[] = population.map((d, i) => ({
    id: `s${seed}-${i}`,
    receivedMs: 1_700_000_000_000 + i,
    installId: `install-${Math.floor(i / 30)}`,
    modelId: 'digits',
    modelVersion: '1',
    predictionId: `p${i}`,
    label: d.label,
    inputs: { image: { type: 'float32', dims: [1, 1, 28, 28], data: Array.from(d.pixels) } },
  }));
  let candidate: Uint8Array | undefined;
  const started = Date.now();
  const outcome = await runRetrainJob({
    jobId: `samples-${seed}`,
    modelId: 'digits',
    config: { ...shipped, mode: 'samples' },
    ports: {
      current: async () => ({ version: '1', bytes: v1, inputs: [], outputs: [], versions: ['1'] }),
      fieldSamples: async () => samples,
      publish: async (p) => void (candidate = p.bytes),
      startRollout: async () => 1,
    },
    log: (line) => process.env.VERBOSE && console.log(`  ${line}`),
    cwd: process.cwd(),
  });
  await report(`sample-based, seed ${seed} (${samples.length} uploaded drawings)`, outcome, candidate, Date.now() - started);
}

for (const seed of values.seeds.split(',').map(Number)) {
  if (values.samples) await samplesRun(seed);
  else for (const poisoned of values.poisoned.split(',').map(Number)) await federatedRun(seed, poisoned);
}
