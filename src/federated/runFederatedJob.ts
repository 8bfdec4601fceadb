import { randomUUID } from 'node:crypto';
import { mulberry32 } from '../core/mulberry32';
import { trainHeadLocally } from '../core/federated/trainHeadLocally';
import type { RoundKind } from '../core/schema/FederatedRound';
import { readTrainableHead, withHeadWeights } from '../node/onnx/trainableHead';
import type { ReleaseTrainable } from '../registry/ReleaseManifest';
import { loadBaseEvaluation, loadBaseTraining } from '../retrain/baseEvaluation';
import type { Accuracy } from '../retrain/evaluateClassifier';
import type { LabelledExample } from '../retrain/FieldSample';
import { decideGate } from '../retrain/gate';
import type { ModelRetrainConfig } from '../retrain/retrainConfig';
import { nextVersion, type JobOutcome, type RetrainPorts } from '../retrain/runRetrainJob';
import { aggregateUpdates, type ClientUpdate } from './aggregateUpdates';
import { privacyEpsilon } from './privacyEpsilon';
import type { RoundStore } from './RoundStore';

/** Where a federated job reads and writes, inside the server. */
export interface FederatedPorts {
  /** The stable version and its bytes, publishing and the rollout (the same ports as a samples job). */
  releases: Pick<RetrainPorts, 'current' | 'publish' | 'startRollout'>;
  /** The version's trainable head and its features variant (ReleaseService.trainableOf). */
  trainable(
    modelId: string,
    version: string,
  ): Promise<{ trainable: ReleaseTrainable; variantBytes(): Promise<Uint8Array | undefined> } | undefined>;
  rounds: RoundStore;
  /** The current version's and the candidate's accuracy on the base evaluation set (evaluateInSandbox). */
  evaluateBase(
    models: { current: Uint8Array; candidate: Uint8Array },
    examples: readonly LabelledExample[],
  ): Promise<{ current: Accuracy; candidate: Accuracy }>;
  /** The variant's features on labelled examples (computeFeaturesInSandbox). */
  features(
    variant: Uint8Array,
    examples: readonly LabelledExample[],
    featuresName: string,
    featureCount: number,
  ): Promise<{ features: Float32Array; labels: Int32Array }>;
}

export interface RunFederatedJobOptions {
  jobId: string;
  modelId: string;
  config: ModelRetrainConfig;
  ports: FederatedPorts;
  log: (line: string) => void;
  /** Overrides config.federated.rounds (the CLI's --rounds). */
  rounds?: number;
  /** Stops the job: its open round is closed, the job fails. */
  signal?: AbortSignal;
  /** How often a round's update count is read while it is open (default 250 ms). */
  pollMs?: number;
  now?: () => number;
  /** Each round's figures as soon as it closed (the job's progress). */
  onRound?: (summary: RoundSummary) => void;
}

/** One closed round's figures (the job's metrics and the rounds endpoint carry them). */
export interface RoundSummary {
  round: number;
  kind: RoundKind;
  clients: number;
  /** Examples counted (each client's own count, capped at maxExamplesPerClient). */
  examples: number;
  closedBy: 'target' | 'deadline';
  durationMs: number;
  /** train: updates clipped, clients trimmed per side, the aggregate's and the median update's L2 norm. */
  clipped?: number;
  trimmedPerSide?: number;
  updateNorm?: number;
  medianClientNorm?: number;
  method?: 'trimmed-mean' | 'dp-gaussian';
  /** train: the round's head on the clients' held-back examples (before this round's change). */
  fieldAccuracy?: number | null;
  fieldExamples?: number;
  /** evaluate: the current version and the candidate on the clients' held-back examples. */
  current?: { correct: number; count: number };
  candidate?: { correct: number; count: number };
  /** Examples whose label is not a class of the head (not used). */
  unusableLabels: number;
}

class NotEnoughClients extends Error {}

/**
 * One federated job: rounds of on-device training of the model's head (each client trains from the round's head
 * on its own examples and sends the change; the server aggregates robustly: aggregateUpdates), an evaluation
 * round where the clients score the candidate on the examples they held back, the base evaluation set on the
 * server, the gate, and the candidate published through the release control plane. Never throws.
 */
export async function runFederatedJob(o: RunFederatedJobOptions): Promise<JobOutcome> {
  const { config, modelId, log, ports } = o;
  const f = config.federated;
  const now = o.now ?? Date.now;
  const rounds = o.rounds ?? f.rounds;
  let baseVersion: string | null = null;
  const summaries: RoundSummary[] = [];
  const outcome = (state: JobOutcome['state'], reason: string | null, extra: Partial<JobOutcome> = {}): JobOutcome => {
    log(`job ${state}${reason ? `: ${reason}` : ''}`);
    return {
      state,
      reason,
      baseVersion,
      resultVersion: null,
      metrics: summaries.length ? { mode: 'federated', rounds: summaries } : null,
      dataSummary: dataSummary(summaries),
      ...extra,
    };
  };
  try {
    const current = await ports.releases.current(modelId);
    baseVersion = current.version;
    const found = await ports.trainable(modelId, current.version);
    if (!found)
      return outcome(
        'failed',
        `${modelId} ${current.version} has no trainable head (declare trainable in its registry entry, or publish it with trainable)`,
      );
    const { trainable } = found;
    const head = readTrainableHead(current.bytes, trainable);
    const F = head.featureCount;
    const C = head.classes;
    log(
      `current version ${current.version}: head ${trainable.features}[${F}] → ${C} classes; ${rounds} rounds of up to ${f.targetClients} clients`,
    );
    const weight = Float64Array.from(head.weightValues);
    const bias = Float64Array.from(head.biasValues);

    let base: { features: Float32Array; labels: Int32Array } | undefined;
    if (f.baseTraining) {
      const variant = await found.variantBytes();
      if (!variant) return outcome('failed', `the features variant of ${modelId} ${current.version} is missing`);
      const examples = await loadBaseTraining(f.baseTraining.set);
      base = await ports.features(variant, examples, trainable.features, F);
      log(`base training set: ${examples.length} examples, ${f.baseTraining.examplesPerRound} per round`);
    }

    const offer = (kind: RoundKind, w: ArrayLike<number>, b: ArrayLike<number>) => ({
      kind,
      modelId,
      version: current.version,
      model: { ...trainable.variant, features: trainable.features, output: trainable.output },
      head: { W: Array.from(w, compact), b: Array.from(b, compact), features: F, classes: C },
      epochs: f.epochs,
      learningRate: f.learningRate,
      batchSize: f.batchSize,
      heldBackFraction: f.heldBackFraction,
      minExamples: f.minLocalExamples,
    });

    for (let r = 1; r <= rounds; r++) {
      const { updates, summary } = await runRound(o, r, 'train', offer('train', weight, bias));
      const parsed = updates.map(
        (u) => JSON.parse(u.body) as ClientUpdate & { heldBack?: { examples: number; correct: number }; unusableLabels?: number },
      );
      const aggregate = aggregateUpdates(parsed, {
        clipNorm: f.clipNorm,
        maxExamplesPerClient: f.maxExamplesPerClient,
        trimFraction: f.trimFraction,
        noiseMultiplier: f.noiseMultiplier,
      });
      let dW = aggregate.dW;
      let db = aggregate.db;
      if (base && f.baseTraining) {
        const shard = pickShard(base, F, f.baseTraining.examplesPerRound, r);
        const server = trainHeadLocally({ featureCount: F, classes: C, weight, bias }, shard, {
          epochs: f.epochs,
          learningRate: f.learningRate,
          batchSize: f.batchSize,
          seed: r,
        });
        // With noise the clients' weight must not depend on what they claim: each counts as maxExamplesPerClient.
        const fieldWeight = f.noiseMultiplier ? aggregate.clients * f.maxExamplesPerClient : aggregate.examples;
        const serverWeight = shard.labels.length;
        const mix = (a: Float64Array, s: Float64Array) =>
          a.map((x, j) => (x * fieldWeight + s[j] * serverWeight) / (fieldWeight + serverWeight));
        dW = mix(dW, server.dW);
        db = mix(db, server.db);
      }
      for (let j = 0; j < weight.length; j++) weight[j] += dW[j];
      for (let c = 0; c < C; c++) bias[c] += db[c];
      const held = parsed.reduce(
        (s, u) => ({ examples: s.examples + (u.heldBack?.examples ?? 0), correct: s.correct + (u.heldBack?.correct ?? 0) }),
        { examples: 0, correct: 0 },
      );
      Object.assign(summary, {
        examples: aggregate.examples,
        clipped: aggregate.clipped,
        trimmedPerSide: aggregate.trimmedPerSide,
        updateNorm: round4(aggregate.norm),
        medianClientNorm: round4(aggregate.medianClientNorm),
        method: aggregate.method,
        fieldAccuracy: held.examples > 0 ? round4(held.correct / held.examples) : null,
        fieldExamples: held.examples,
      });
      await closeRound(o, summary, summaries);
      log(
        `round ${r}/${rounds} (train): ${summary.clients} clients, ${summary.examples} examples, update norm ${summary.updateNorm} (median client ${summary.medianClientNorm}, ${summary.clipped} clipped, ${summary.trimmedPerSide} trimmed per side), field accuracy ${summary.fieldAccuracy === null ? '–' : pct(summary.fieldAccuracy!)} on ${held.examples} held back`,
      );
    }

    // The candidate: the current model with the trained head, scored by the clients on what they held back.
    const candidateWeight = Float32Array.from(weight);
    const candidateBias = Float32Array.from(bias);
    const { updates, summary } = await runRound(o, rounds + 1, 'evaluate', offer('evaluate', candidateWeight, candidateBias));
    const field = { current: { correct: 0, count: 0 }, candidate: { correct: 0, count: 0 } };
    for (const u of updates) {
      const e = JSON.parse(u.body) as { examples: number; correctCurrent: number; correctCandidate: number };
      // A client counts for at most maxExamplesPerClient examples, its counts scaled down alike.
      const scale = e.examples > f.maxExamplesPerClient ? f.maxExamplesPerClient / e.examples : 1;
      field.current.count += e.examples * scale;
      field.candidate.count += e.examples * scale;
      field.current.correct += e.correctCurrent * scale;
      field.candidate.correct += e.correctCandidate * scale;
    }
    Object.assign(summary, {
      examples: Math.round(field.current.count),
      current: roundCounts(field.current),
      candidate: roundCounts(field.candidate),
    });
    await closeRound(o, summary, summaries);
    const accuracy = (a: { correct: number; count: number }): Accuracy => ({
      accuracy: a.count ? a.correct / a.count : Number.NaN,
      correct: Math.round(a.correct),
      count: Math.round(a.count),
    });
    log(
      `round ${rounds + 1}/${rounds + 1} (evaluate): ${summary.clients} clients, ${summary.examples} held-back examples: current ${pct(accuracy(field.current).accuracy)}, candidate ${pct(accuracy(field.candidate).accuracy)}`,
    );

    const candidate = withHeadWeights(current.bytes, head, candidateWeight, candidateBias);
    const baseSet = await loadBaseEvaluation(config.evaluator);
    const evaluated = {
      base: await ports.evaluateBase({ current: current.bytes, candidate }, baseSet),
      field: { current: accuracy(field.current), candidate: accuracy(field.candidate) },
    };
    const gate = decideGate({ ...evaluated, minFieldSamples: config.minFieldSamples, ...config.gate });
    const privacy = f.noiseMultiplier
      ? {
          noiseMultiplier: f.noiseMultiplier,
          delta: f.delta,
          rounds,
          epsilon: round4(privacyEpsilon({ noiseMultiplier: f.noiseMultiplier, rounds, delta: f.delta })),
        }
      : null;
    if (privacy)
      log(
        `differential privacy: (ε = ${privacy.epsilon}, δ = ${privacy.delta}) over ${rounds} rounds, noise multiplier ${privacy.noiseMultiplier}`,
      );
    log(`gate: ${gate.reason}`);
    const pctOf = (a: Accuracy) => Math.round(a.accuracy * 1e6) / 1e4;
    const metrics = {
      jobId: o.jobId,
      mode: 'federated',
      gate: { passed: gate.passed, reason: gate.reason, baseDeltaPoints: gate.baseDeltaPoints, fieldDeltaPoints: gate.fieldDeltaPoints },
      baseAccuracy: {
        current: pctOf(evaluated.base.current),
        candidate: pctOf(evaluated.base.candidate),
        count: evaluated.base.current.count,
      },
      fieldAccuracy: {
        current: pctOf(evaluated.field.current),
        candidate: pctOf(evaluated.field.candidate),
        count: evaluated.field.current.count,
      },
      aggregation: {
        clipNorm: f.clipNorm,
        trimFraction: f.trimFraction,
        maxExamplesPerClient: f.maxExamplesPerClient,
        baseTraining: f.baseTraining ?? null,
      },
      privacy,
    };
    if (!gate.passed) return outcome('refused', gate.reason, { metrics: { ...metrics, rounds: summaries } });
    const version = nextVersion(current.versions, current.version, o.jobId);
    await ports.releases.publish({
      modelId,
      version,
      bytes: candidate,
      notes: `federated fine-tuning by job ${o.jobId} from ${current.version} (${rounds} rounds): ${gate.reason}`,
      metrics: { ...metrics, data: dataSummary(summaries) },
    });
    log(`published ${modelId} ${version}`);
    try {
      log(
        `rollout of ${modelId} ${version} started at ${await ports.releases.startRollout(modelId, version)} %: the staged rollout takes over`,
      );
    } catch (e) {
      log(`rollout of ${modelId} ${version} not started: ${(e as Error).message}`);
    }
    return outcome('succeeded', null, { metrics: { ...metrics, rounds: summaries }, resultVersion: version });
  } catch (e) {
    if (e instanceof NotEnoughClients) return outcome('refused', e.message);
    return outcome('failed', (e as Error).message);
  } finally {
    await ports.rounds.closeAll(modelId, now()).catch(() => undefined);
  }
}

/** Open a round, wait for `targetClients` updates or the deadline, close it; fewer than `minClients` ends the job. */
async function runRound(
  o: RunFederatedJobOptions,
  seq: number,
  kind: RoundKind,
  offer: Record<string, unknown>,
): Promise<{ updates: { installId: string; body: string }[]; summary: RoundSummary & { id: string } }> {
  const f = o.config.federated;
  const now = o.now ?? Date.now;
  const id = randomUUID();
  const openedMs = now();
  const deadlineMs = openedMs + f.roundTimeoutMs;
  await o.ports.rounds.open({ id, jobId: o.jobId, modelId: o.modelId, seq, kind, offer, openedMs, deadlineMs });
  let closedBy: RoundSummary['closedBy'] = 'deadline';
  for (;;) {
    if (o.signal?.aborted) throw new Error('the job was stopped');
    if ((await o.ports.rounds.countUpdates(id)) >= f.targetClients) {
      closedBy = 'target';
      break;
    }
    if (now() >= deadlineMs) break;
    await sleep(Math.min(o.pollMs ?? 250, Math.max(1, deadlineMs - now())), o.signal);
  }
  const updates = await o.ports.rounds.close(id, now());
  const unusableLabels = updates.reduce((n, u) => n + ((JSON.parse(u.body) as { unusableLabels?: number }).unusableLabels ?? 0), 0);
  const summary: RoundSummary & { id: string } = {
    id,
    round: seq,
    kind,
    clients: updates.length,
    examples: 0,
    closedBy,
    durationMs: now() - openedMs,
    unusableLabels,
  };
  if (updates.length < f.minClients) {
    await o.ports.rounds.finish(id, { ...summary, id: undefined });
    throw new NotEnoughClients(
      `round ${seq} (${kind}) ended with ${updates.length} client${updates.length === 1 ? '' : 's'} (need ${f.minClients} by ${f.roundTimeoutMs} ms): no candidate`,
    );
  }
  return { updates, summary };
}

async function closeRound(o: RunFederatedJobOptions, summary: RoundSummary & { id: string }, summaries: RoundSummary[]): Promise<void> {
  const { id, ...figures } = summary;
  await o.ports.rounds.finish(id, figures);
  summaries.push(figures);
  o.onRound?.(figures);
}

/** `count` base training rows for round `round` (a seeded draw without repetition). */
function pickShard(base: { features: Float32Array; labels: Int32Array }, F: number, count: number, round: number) {
  const usable = [...base.labels.keys()].filter((i) => base.labels[i] >= 0);
  const random = mulberry32(round * 7919 + 1);
  for (let i = usable.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [usable[i], usable[j]] = [usable[j], usable[i]];
  }
  const rows = usable.slice(0, Math.min(count, usable.length));
  const features = new Float32Array(rows.length * F);
  rows.forEach((row, k) => features.set(base.features.subarray(row * F, (row + 1) * F), k * F));
  return { features, labels: Int32Array.from(rows, (row) => base.labels[row]) };
}

function dataSummary(summaries: RoundSummary[]): Record<string, unknown> | null {
  if (summaries.length === 0) return null;
  const train = summaries.filter((s) => s.kind === 'train');
  return {
    rounds: train.length,
    clientsPerRound: train.map((s) => s.clients),
    examplesPerRound: train.map((s) => s.examples),
    heldBackEvaluated: summaries.find((s) => s.kind === 'evaluate')?.examples ?? null,
    unusableLabels: Math.max(0, ...summaries.map((s) => s.unusableLabels)),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const compact = (x: number) => Number(x.toPrecision(8));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const roundCounts = (a: { correct: number; count: number }) => ({ correct: Math.round(a.correct), count: Math.round(a.count) });
