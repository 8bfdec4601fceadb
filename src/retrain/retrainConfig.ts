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

/** One model's retraining: the trainer command and every window, limit and threshold of the job and its gate. */
export const ModelRetrainSchema = v.strictObject({
  /** argv of the trainer; the job appends `--dataset <dir> --out <dir>` (docs/retraining.md, "The trainer contract"). */
  trainer: v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty')), 'must be an array of strings'),
    v.minLength(1, 'needs a command'),
  ),
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
