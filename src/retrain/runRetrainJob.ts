import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { loadBaseEvaluation } from './baseEvaluation';
import type { SandboxSettings } from '../sandbox';
import type { Accuracy } from './evaluateClassifier';
import { evaluateInSandbox } from './evaluateInSandbox';
import type { FieldSample } from './FieldSample';
import { decideGate, type GateDecision } from './gate';
import type { JobState } from './JobStore';
import { prepareDataset, type DataSummary } from './prepareDataset';
import type { ModelRetrainConfig } from './retrainConfig';
import { runTrainer } from './runTrainer';

/** Where a job reads and writes: in process inside the server, over HTTP from the CLI. */
export interface RetrainPorts {
  /** The stable (current) version of the model and its bytes, checked against its sha256. */
  current(
    modelId: string,
  ): Promise<{ version: string; bytes: Uint8Array; inputs: TensorSpec[]; outputs: TensorSpec[]; versions: string[] }>;
  /** The labelled field samples of the model (dataset export), oldest first, at most `limit` of the most recent. */
  fieldSamples(modelId: string, limit: number): Promise<FieldSample[]>;
  /** Publish through the release control plane (a candidate at 0 %: the staged rollout takes over). */
  publish(input: { modelId: string; version: string; bytes: Uint8Array; notes: string; metrics: Record<string, unknown> }): Promise<void>;
  /** Put a published candidate on the rollout policy's first stage; resolves with that percent. */
  startRollout(modelId: string, version: string): Promise<number>;
}

export interface JobOutcome {
  state: Extract<JobState, 'succeeded' | 'refused' | 'failed'>;
  reason: string | null;
  baseVersion: string | null;
  resultVersion: string | null;
  metrics: Record<string, unknown> | null;
  dataSummary: DataSummary | null;
}

export interface RunJobOptions {
  jobId: string;
  modelId: string;
  config: ModelRetrainConfig;
  ports: RetrainPorts;
  log: (line: string) => void;
  /** Working directory of the trainer command (the repository root for the built-in trainers). */
  cwd?: string;
  /** Stops the job (the trainer is killed): a failed job. */
  signal?: AbortSignal;
  /** Limits of the sandbox process that evaluates both versions. Default DEFAULT_SANDBOX_SETTINGS. */
  sandbox?: SandboxSettings;
}

/**
 * One retraining job: field samples → dedupe, hold back, balance → dataset dir → trainer (child
 * process) → both versions evaluated on the base set and the held-back field slice (in a sandbox child) → gate → publish or
 * refuse. Never throws: every failure becomes a `failed` outcome with its reason.
 */
export async function runRetrainJob(o: RunJobOptions): Promise<JobOutcome> {
  const { config, modelId, log } = o;
  let baseVersion: string | null = null;
  let dataSummary: DataSummary | null = null;
  const work = await mkdtemp(path.join(tmpdir(), `ondevice-retrain-${modelId}-`));
  const outcome = (state: JobOutcome['state'], reason: string | null, extra: Partial<JobOutcome> = {}): JobOutcome => {
    log(`job ${state}${reason ? `: ${reason}` : ''}`);
    return { state, reason, baseVersion, resultVersion: null, metrics: null, dataSummary, ...extra };
  };
  try {
    const current = await o.ports.current(modelId);
    baseVersion = current.version;
    log(`current version ${current.version} (${current.bytes.byteLength} bytes)`);
    const samples = await o.ports.fieldSamples(modelId, config.maxFieldSamples);
    const prepared = prepareDataset(samples, config);
    dataSummary = prepared.summary;
    log(
      `field samples: ${samples.length} read, ${prepared.summary.duplicates} duplicates, ${prepared.heldBack.length} held back, ${prepared.train.length} to train on`,
    );
    if (prepared.heldBack.length < config.minFieldSamples) {
      return outcome(
        'refused',
        `not enough field data: ${prepared.heldBack.length} held-back samples, the gate needs ${config.minFieldSamples}`,
      );
    }

    const dataset = path.join(work, 'dataset');
    const out = path.join(work, 'out');
    await writeDataset(dataset, {
      manifest: {
        model: modelId,
        baseVersion: current.version,
        inputs: current.inputs,
        outputs: current.outputs,
        fieldTrainCount: prepared.train.length,
      },
      train: prepared.train,
      current: current.bytes,
    });
    await mkdir(out, { recursive: true });
    log(`trainer: ${config.trainer.join(' ')}`);
    const run = await runTrainer(
      config.trainer,
      { dataset, out },
      { timeoutMs: config.trainerTimeoutMs, cwd: o.cwd, log, signal: o.signal },
    );
    if (run.timedOut) return outcome('failed', `the trainer ran longer than ${config.trainerTimeoutMs} ms`);
    if (o.signal?.aborted) return outcome('failed', 'stopped: the server is shutting down');
    if (run.exitCode !== 0)
      return outcome(
        'failed',
        `the trainer exited with ${run.exitCode === null ? `signal ${run.signal ?? '(did not start)'}` : `code ${run.exitCode}`}`,
      );
    const candidate = await readFile(path.join(out, 'model.onnx')).catch(() => undefined);
    if (!candidate || candidate.byteLength === 0) return outcome('failed', 'the trainer wrote no out/model.onnx');
    const trainerMetrics = await readFile(path.join(out, 'metrics.json'), 'utf8')
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => undefined);
    if (typeof trainerMetrics !== 'object' || trainerMetrics === null || Array.isArray(trainerMetrics))
      return outcome('failed', 'the trainer wrote no out/metrics.json object');

    const base = await loadBaseEvaluation(config.evaluator);
    const held = prepared.heldBack.map((s) => ({ inputs: s.inputs, label: s.label }));
    let evaluated: { base: { current: Accuracy; candidate: Accuracy }; field: { current: Accuracy; candidate: Accuracy } };
    try {
      evaluated = await evaluateInSandbox({
        models: { current: path.join(dataset, 'current.onnx'), candidate: path.join(out, 'model.onnx') },
        base,
        field: held,
        settings: o.sandbox,
      });
    } catch (e) {
      return outcome('failed', `evaluation failed: ${(e as Error).message}`);
    }
    const gate = decideGate({ ...evaluated, minFieldSamples: config.minFieldSamples, ...config.gate });
    const metrics = metricsOf(evaluated, gate, trainerMetrics as Record<string, unknown>, o.jobId);
    log(`gate: ${gate.reason}`);
    if (!gate.passed) return outcome('refused', gate.reason, { metrics });

    const version = nextVersion(current.versions, current.version, o.jobId);
    await o.ports.publish({
      modelId,
      version,
      bytes: candidate,
      notes: `retrained by job ${o.jobId} from ${current.version}: ${gate.reason}`,
      metrics: { ...metrics, data: compactSummary(prepared.summary) },
    });
    log(`published ${modelId} ${version}`);
    try {
      log(`rollout of ${modelId} ${version} started at ${await o.ports.startRollout(modelId, version)} %: the staged rollout takes over`);
    } catch (e) {
      // Published all the same (e.g. another candidate is rolling out): an operator starts it later.
      log(`rollout of ${modelId} ${version} not started: ${(e as Error).message}`);
    }
    return outcome('succeeded', null, { metrics, resultVersion: version });
  } catch (e) {
    return outcome('failed', (e as Error).message);
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
}

async function writeDataset(
  dir: string,
  d: { manifest: Record<string, unknown>; train: FieldSample[]; current: Uint8Array },
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(d.manifest, null, 2)}\n`);
  await writeFile(path.join(dir, 'field-train.jsonl'), d.train.map((s) => `${JSON.stringify(s)}\n`).join(''));
  await writeFile(path.join(dir, 'current.onnx'), d.current);
}

function metricsOf(
  e: { base: { current: Accuracy; candidate: Accuracy }; field: { current: Accuracy; candidate: Accuracy } },
  gate: GateDecision,
  trainer: Record<string, unknown>,
  jobId: string,
): Record<string, unknown> {
  const pct = (a: Accuracy) => Math.round(a.accuracy * 1e6) / 1e4;
  // Trainer metrics are the trainer's own; only small scalar fields travel with the release (8000-char limit).
  const trainerScalars = Object.fromEntries(
    Object.entries(trainer)
      .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 200))
      .slice(0, 20),
  );
  return {
    jobId,
    gate: { passed: gate.passed, reason: gate.reason, baseDeltaPoints: gate.baseDeltaPoints, fieldDeltaPoints: gate.fieldDeltaPoints },
    baseAccuracy: { current: pct(e.base.current), candidate: pct(e.base.candidate), count: e.base.current.count },
    fieldAccuracy: { current: pct(e.field.current), candidate: pct(e.field.candidate), count: e.field.current.count },
    trainer: trainerScalars,
  };
}

function compactSummary(s: DataSummary): Record<string, unknown> {
  return {
    read: s.read,
    duplicates: s.duplicates,
    heldBack: s.heldBack,
    train: s.train,
    balancedAway: s.balancedAway,
    trainPerClass: s.trainPerClass,
  };
}

/** The next integer after the largest integer version ("1" → "2"); otherwise `<current>-r<job>`. */
export function nextVersion(versions: readonly string[], current: string, jobId: string): string {
  const numbers = versions.filter((v) => /^\d{1,9}$/.test(v)).map(Number);
  if (numbers.length > 0 && /^\d{1,9}$/.test(current)) return String(Math.max(...numbers) + 1);
  return `${current}-r${jobId.slice(0, 8)}`.slice(0, 64);
}
