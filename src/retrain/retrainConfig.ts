import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { issuePath } from '../core/schema/issuePath';
import { ownRecord } from '../core/schema/ownRecord';

const DAY_MS = 24 * 60 * 60 * 1000;

const int = (min: number, max: number) =>
  v.pipe(
    v.number('must be a number'),
    v.integer('must be an integer'),
    v.minValue(min, `must be within [${min}, ${max}]`),
    v.maxValue(max, `must be within [${min}, ${max}]`),
  );
const points = v.pipe(
  v.number('must be a number'),
  v.finite('must be finite'),
  v.minValue(0, 'must be ≥ 0'),
  v.maxValue(100, 'must be ≤ 100'),
);

/** What starts a job on its own (`npm start`); a job can always be started by hand (POST /v1/jobs, the CLI). */
const TriggersSchema = v.strictObject({
  /** The model's accuracy alert (a rule with metric "accuracy" in config/alerts.json) starts firing. */
  accuracyAlert: v.optional(v.boolean('must be a boolean'), true),
  /** This many labelled field samples arrived since the last job started (0: off). */
  newLabelledSamples: v.optional(int(0, 1e9), 0),
  /** A job at least this often (0: off). */
  intervalMs: v.optional(int(0, 365 * DAY_MS), 0),
});

const positive = (max: number) =>
  v.pipe(v.number('must be a number'), v.finite('must be finite'), v.gtValue(0, 'must be > 0'), v.maxValue(max, `must be ≤ ${max}`));
const fraction = (min: number, max: number) =>
  v.pipe(v.number('must be a number'), v.minValue(min, `must be ≥ ${min}`), v.maxValue(max, `must be ≤ ${max}`));

/** Labelled examples by built-in set id (`"digits"`) or `{ "file": "…jsonl" }` in the dataset-export line format. */
const ExampleSetSchema = v.union(
  [v.string('must be a string'), v.strictObject({ file: v.string() })],
  'must be a built-in set id or { "file": … }',
);

/**
 * Federated mode: the clients train the model's head on their own labelled examples and evaluate candidates on
 * the ones they hold back; only head updates and counts reach the server (docs/retraining.md, "Federated mode").
 */
export const FederatedSchema = v.pipe(
  v.strictObject({
    /** Training rounds of a job (then one evaluation round). */
    rounds: v.optional(int(1, 1000), 10),
    /** A round closes as soon as this many updates arrived… */
    targetClients: v.optional(int(1, 100_000), 20),
    /** …or at roundTimeoutMs with at least this many (fewer: the job ends without a candidate). */
    minClients: v.optional(int(1, 100_000), 10),
    roundTimeoutMs: v.optional(int(1000, DAY_MS), 10 * 60_000),
    /** Clients with fewer local examples do not take part; at least 10 (a gradient from one example reveals its features). */
    minLocalExamples: v.optional(int(10, 1e6), 10),
    /** A client's weight is its example count, capped here (clients report their own counts). */
    maxExamplesPerClient: v.optional(int(1, 1e6), 100),
    /** Each update (ΔW and Δb together) is scaled down to at most this L2 norm. */
    clipNorm: v.optional(positive(1e6), 3),
    /** Share of clients cut from each end of every coordinate before averaging. */
    trimFraction: v.optional(fraction(0, 0.45), 0.2),
    /** Local passes over a client's training examples per round. */
    epochs: v.optional(int(1, 100), 5),
    learningRate: v.optional(positive(100), 0.01),
    /** Examples per local gradient step. */
    batchSize: v.optional(int(1, 10_000), 10),
    /** Share of each client's examples it never trains on: its part of the field evaluation. */
    heldBackFraction: v.optional(fraction(0.05, 0.5), 0.2),
    /** Differential privacy: Gaussian noise of this multiple of clipNorm / n on the unweighted mean of the clipped updates. */
    noiseMultiplier: v.optional(positive(1000)),
    /** The δ the job reports ε for (with noiseMultiplier). */
    delta: v.optional(v.pipe(v.number('must be a number'), v.gtValue(0, 'must be > 0'), v.ltValue(0.01, 'must be < 0.01')), 1e-5),
    /**
     * The server's own part of every round: an update trained on this many examples of a base training set (what the
     * model learnt from, never the evaluation set), averaged in with that weight, so that learning the field's inputs
     * does not unlearn the base's.
     */
    baseTraining: v.optional(v.strictObject({ set: ExampleSetSchema, examplesPerRound: int(1, 1e6) })),
  }),
  v.check((f) => f.minClients <= f.targetClients, 'minClients must be ≤ targetClients'),
);
export type FederatedConfig = v.InferOutput<typeof FederatedSchema>;

/** One model's retraining: the trainer command and every window, limit and threshold of the job and its gate. */
const ModelRetrainFields = v.strictObject({
  /** `samples` (default): train on uploaded consented samples; `federated`: the clients train, nothing is uploaded. */
  mode: v.optional(v.picklist(['samples', 'federated'], 'must be "samples" or "federated"'), 'samples'),
  /** argv of the trainer; the job appends `--dataset <dir> --out <dir>` (docs/retraining.md, "The trainer contract"). Mode `samples` only. */
  trainer: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty')), 'must be an array of strings'),
      v.minLength(1, 'needs a command'),
    ),
  ),
  federated: v.optional(FederatedSchema, {}),
  /**
   * The base evaluation set: a built-in evaluator id (`"digits"`: the held-back MNIST split), or
   * `{ "file": "…jsonl" }` in the dataset-export line format.
   */
  evaluator: v.union([v.string('must be a string'), v.strictObject({ file: v.string() })], 'must be an evaluator id or { "file": … }'),
  triggers: v.optional(TriggersSchema, {}),
  /** Fewer field samples than this in the held-back slice: refused, "not enough field data". */
  minFieldSamples: v.optional(int(1, 1e9), 100),
  /** Share of the (deduped) field samples, the most recent ones, held back from training for the gate. */
  heldBackFraction: v.optional(v.pipe(v.number(), v.minValue(0.01, 'must be ≥ 0.01'), v.maxValue(0.9, 'must be ≤ 0.9')), 0.2),
  /** At most this many held back (the rest trains). */
  maxHeldBack: v.optional(int(1, 1e7), 1000),
  /** At most this many of the most recent field samples are read from the dataset export. */
  maxFieldSamples: v.optional(int(1, 1e7), 20_000),
  gate: v.optional(
    v.strictObject({
      /** The candidate may be at most this many accuracy points worse on the base evaluation set. */
      maxBaseDropPoints: v.optional(points, 0.5),
      /** The candidate must be at least this many points better on the held-back field slice. */
      minFieldGainPoints: v.optional(points, 2),
    }),
    {},
  ),
  /** The trainer is killed after this long (a failed job). */
  trainerTimeoutMs: v.optional(int(1000, 7 * DAY_MS), 30 * 60_000),
  /** Automatic triggers wait this long after a job of the model started. */
  cooldownMs: v.optional(int(0, 30 * DAY_MS), 10 * 60_000),
});
export const ModelRetrainSchema = v.pipe(
  ModelRetrainFields,
  v.check((m) => m.mode !== 'samples' || m.trainer !== undefined, 'needs a trainer (mode "samples")'),
  v.check(
    (m) => m.mode !== 'federated' || m.triggers.newLabelledSamples === 0,
    'triggers.newLabelledSamples counts uploaded samples, and mode "federated" uploads none: use accuracyAlert or intervalMs',
  ),
);
export type ModelRetrainConfig = v.InferOutput<typeof ModelRetrainSchema>;

export const RetrainConfigSchema = v.strictObject({
  // ownRecord, not v.record: a model may be called `constructor`.
  models: ownRecord(
    v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'model ids are lower-case registry ids')),
    ModelRetrainSchema,
  ),
});
export type RetrainConfig = v.InferOutput<typeof RetrainConfigSchema>;

export const DEFAULT_RETRAIN_CONFIG_PATH = 'config/retrain.json';

/**
 * `ONDEVICE_RETRAIN_LEASE_MS`: the retraining lock's lease (default 60 s; renewed every third of it while a
 * job runs). After a crash the job it covered is failed, and its trainer killed, once the lease has lapsed.
 */
export function retrainLeaseMsFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.ONDEVICE_RETRAIN_LEASE_MS;
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ms < 1000)
    throw new Error(`ONDEVICE_RETRAIN_LEASE_MS must be an integer ≥ 1000, got ${JSON.stringify(raw)}`);
  return ms;
}

/** Validate a retrain config; the first problem comes back as `models.digits.gate.minFieldGainPoints must be ≥ 0`. */
export function parseRetrainConfig(value: unknown): { ok: true; config: RetrainConfig } | { ok: false; error: string } {
  const result = v.safeParse(RetrainConfigSchema, value, { abortEarly: true });
  if (result.success) return { ok: true, config: result.output };
  const [issue] = result.issues;
  const path = issuePath(issue, '').replace(/^\./, '');
  return { ok: false, error: path ? `${path} ${issue.message}` : issue.message };
}

/**
 * Read `path` (default: $ONDEVICE_RETRAIN_CONFIG or config/retrain.json). A missing default file is an
 * empty config (no model retrains); a missing named file or a broken one throws with the reason.
 */
export async function loadRetrainConfig(path?: string, env: NodeJS.ProcessEnv = process.env): Promise<RetrainConfig> {
  const named = path ?? (env.ONDEVICE_RETRAIN_CONFIG || undefined);
  const file = named ?? DEFAULT_RETRAIN_CONFIG_PATH;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (named === undefined && (e as NodeJS.ErrnoException).code === 'ENOENT') return { models: {} };
    throw new Error(`cannot read retrain config ${file}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`retrain config ${file} is not JSON: ${(e as Error).message}`);
  }
  const checked = parseRetrainConfig(json);
  if (!checked.ok) throw new Error(`retrain config ${file}: ${checked.error}`);
  return checked.config;
}
