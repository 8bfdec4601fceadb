// The job itself (runFederatedJob) with simulated installs answering from Node over a real SQLite round store:
// differential privacy reports ε for δ and noises every round; a stopped job closes its open round.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../../src/db/openSqliteDatabase';
import { evaluateBaseInSandbox } from '../../src/federated/evaluateBaseInSandbox';
import { FederatedRounds } from '../../src/federated/FederatedRounds';
import { privacyEpsilon } from '../../src/federated/privacyEpsilon';
import { runFederatedJob, type FederatedPorts } from '../../src/federated/runFederatedJob';
import { SqliteRoundStore } from '../../src/federated/SqliteRoundStore';
import { readTrainableHead, withFeaturesOutput } from '../../src/node/onnx/trainableHead';
import { cornerDigits } from '../../src/retrain/digits/drift';
import { parseRetrainConfig, type ModelRetrainConfig } from '../../src/retrain/retrainConfig';
import { simulatedUpdate, type ClientData } from '../../scripts/federated/simulatedClient';

const v1 = new Uint8Array(readFileSync('models/trained/digits-1.onnx'));
const head = readTrainableHead(v1, { features: 'flat', weight: 'dense_w', bias: 'dense_b' });
const variant = withFeaturesOutput(v1, head);

function config(federated: Record<string, unknown>): ModelRetrainConfig {
  const parsed = parseRetrainConfig({ models: { digits: { mode: 'federated', evaluator: 'digits', minFieldSamples: 1, federated } } });
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.config.models.digits;
}

async function clients(count: number): Promise<ClientData[]> {
  const session = await ort.InferenceSession.create(variant);
  try {
    const digits = cornerDigits(count * 20, 8, 'train');
    const pixels = new Float32Array(digits.length * 784);
    digits.forEach((d, i) => pixels.set(d.pixels, i * 784));
    const out = await session.run({ image: new ort.Tensor('float32', pixels, [digits.length, 1, 28, 28]) });
    const f = out.flat.data as Float32Array;
    return Array.from({ length: count }, (_, c) => ({
      installId: `sim-${c}`,
      features: f.slice(c * 20 * 1152, (c + 1) * 20 * 1152),
      labels: digits.slice(c * 20, (c + 1) * 20).map((d) => d.label),
      heldBack: Array.from({ length: 20 }, (_, i) => i % 5 === 4),
      current: Array.from({ length: 20 }, () => 0),
    }));
  } finally {
    await session.release();
  }
}

function ports(store: SqliteRoundStore): FederatedPorts {
  return {
    releases: {
      current: async () => ({ version: '1', bytes: v1, inputs: [], outputs: [], versions: ['1'] }),
      publish: async () => undefined,
      startRollout: async () => 1,
    },
    trainable: async () => ({
      trainable: {
        ...{ features: 'flat', weight: 'dense_w', bias: 'dense_b' },
        featureCount: 1152,
        classes: 10,
        output: 'probabilities',
        variant: { url: '/variant', sha256: createHash('sha256').update(variant).digest('hex'), bytes: variant.byteLength },
      },
      variantBytes: async () => variant,
    }),
    rounds: store,
    evaluateBase: (models, examples) => evaluateBaseInSandbox(models, examples),
    features: async () => {
      throw new Error('no base training in these jobs');
    },
  };
}

/** Installs that answer every round they are offered, until `stop()`. */
function answering(store: SqliteRoundStore, all: ClientData[]) {
  const rounds = new FederatedRounds(store);
  let done = false;
  const loop = (async () => {
    while (!done) {
      for (const c of all) {
        const offer = await rounds.offerFor('digits', c.installId);
        if (!offer) continue;
        const { round } = await rounds.roundForUpdate('digits', offer.roundId);
        await rounds.acceptUpdate(round, JSON.stringify(simulatedUpdate(c, offer)), c.installId);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return async () => {
    done = true;
    await loop;
  };
}

describe('runFederatedJob', () => {
  it('with a noise multiplier: every round is the noised mean, and the job reports ε for δ over its rounds', async () => {
    const store = new SqliteRoundStore(openSqliteDatabase(path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-fedjob-')), 'db.sqlite')));
    const stop = answering(store, await clients(4));
    const lines: string[] = [];
    const outcome = await runFederatedJob({
      jobId: 'dp-job',
      modelId: 'digits',
      config: config({ rounds: 3, targetClients: 4, minClients: 4, noiseMultiplier: 1.1, delta: 1e-6, clipNorm: 1 }),
      ports: ports(store),
      pollMs: 10,
      log: (l) => lines.push(l),
    });
    await stop();
    const metrics = outcome.metrics as { privacy: unknown; rounds: { kind: string; method?: string; clipped?: number }[] };
    expect(metrics.privacy).toEqual({
      noiseMultiplier: 1.1,
      delta: 1e-6,
      rounds: 3,
      epsilon: Math.round(privacyEpsilon({ noiseMultiplier: 1.1, rounds: 3, delta: 1e-6 }) * 1e4) / 1e4,
    });
    expect(metrics.rounds.filter((r) => r.kind === 'train').map((r) => r.method)).toEqual(['dp-gaussian', 'dp-gaussian', 'dp-gaussian']);
    expect(lines.join('\n')).toMatch(/differential privacy: \(ε = [\d.]+, δ = 0.000001\) over 3 rounds, noise multiplier 1.1/);
  }, 120_000);

  it('a stopped job fails and closes its open round: no update is taken after it', async () => {
    const store = new SqliteRoundStore(openSqliteDatabase(path.join(mkdtempSync(path.join(tmpdir(), 'ondevice-fedjob-')), 'db.sqlite')));
    const stop = new AbortController();
    const job = runFederatedJob({
      jobId: 'stopped-job',
      modelId: 'digits',
      config: config({ rounds: 2, targetClients: 5, minClients: 5, roundTimeoutMs: 60_000 }),
      ports: ports(store),
      pollMs: 10,
      signal: stop.signal,
      log: () => undefined,
    });
    const round = await (async () => {
      for (let i = 0; i < 500; i++) {
        const open = await store.openRoundOf('digits', Date.now());
        if (open) return open;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('no round opened');
    })();
    stop.abort();
    expect(await job).toMatchObject({ state: 'failed', reason: 'the job was stopped' });
    expect(await store.addUpdate(round.id, 'late', '{}', Date.now())).toBe('closed');
  }, 60_000);
});
