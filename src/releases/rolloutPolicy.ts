// The rollout policy (config/rollout.json): stages and the evidence each stage needs, with per-model overrides.
import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { OnDeviceError } from '../core/OnDeviceError';
import { ownValue } from '../core/ownValue';
import { ownRecord } from '../core/schema/ownRecord';

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const fraction = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

export const PolicySchema = v.strictObject({
  /** Rollout percentages in increasing order; the last is 100 (promotion). */
  stages: v.pipe(
    v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1), v.maxValue(100))),
    v.minLength(1),
    v.check((s) => s.every((p, i) => i === 0 || p > s[i - 1]) && s[s.length - 1] === 100, 'stages must increase and end at 100'),
  ),
  /** Feedback samples and inferences the candidate needs in the current stage before it advances. */
  minFeedback: count,
  minInferences: count,
  /** Two-sided confidence of every interval: 0.9, 0.95 or 0.99. */
  confidence: v.picklist([0.9, 0.95, 0.99]),
  /** Non-inferiority margin on accuracy (absolute): advance while the interval's lower bound of candidate − stable is above −margin. */
  accuracyMargin: fraction,
  /** The same on error rate (candidate − stable below +margin). */
  errorRateMargin: fraction,
  /** Candidate p95 may exceed stable p95 by this fraction. */
  latencyP95Tolerance: v.pipe(v.number(), v.minValue(0)),
  /** Samples both versions need before a regression can roll the candidate back. */
  rollbackMinFeedback: count,
  rollbackMinInferences: count,
  /** Feedback events one install weighs (its first ones), as in the collector's accuracy alerts. */
  maxFeedbackPerInstall: count,
});
export type RolloutPolicy = v.InferOutput<typeof PolicySchema>;

export const RolloutConfigSchema = v.strictObject({
  evaluationIntervalMs: v.pipe(v.number(), v.safeInteger(), v.minValue(100)),
  default: PolicySchema,
  // ownRecord, not v.record: a model may be called `constructor`.
  models: ownRecord(v.string(), v.partial(PolicySchema)),
});
export type RolloutConfig = v.InferOutput<typeof RolloutConfigSchema>;

export const DEFAULT_ROLLOUT_CONFIG: RolloutConfig = {
  evaluationIntervalMs: 30_000,
  default: {
    stages: [1, 10, 50, 100],
    minFeedback: 200,
    minInferences: 500,
    confidence: 0.95,
    accuracyMargin: 0.02,
    errorRateMargin: 0.01,
    latencyP95Tolerance: 0.2,
    rollbackMinFeedback: 50,
    rollbackMinInferences: 200,
    maxFeedbackPerInstall: 20,
  },
  models: {},
};

/** Validate a rollout config; throws INVALID_INPUT naming every problem. */
export function parseRolloutConfig(json: unknown): RolloutConfig {
  const result = v.safeParse(RolloutConfigSchema, json);
  if (result.success) {
    // An override is checked as a whole policy, so per-model stages obey the same rules.
    for (const [id, override] of Object.entries(result.output.models)) {
      const merged = v.safeParse(PolicySchema, { ...result.output.default, ...override });
      if (!merged.success) throw invalid(`models.${id}`, merged.issues);
    }
    return result.output;
  }
  throw invalid('rollout config', result.issues);
}

/** The policy for one model: the default with its override. */
export function policyFor(config: RolloutConfig, modelId: string): RolloutPolicy {
  return { ...config.default, ...ownValue(config.models, modelId) } as RolloutPolicy;
}

/** Read a rollout config file; a missing file gives the defaults. */
export async function loadRolloutConfig(path: string): Promise<RolloutConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return DEFAULT_ROLLOUT_CONFIG;
    throw e;
  }
  return parseRolloutConfig(JSON.parse(text));
}

function invalid(where: string, issues: v.BaseIssue<unknown>[]): OnDeviceError {
  const problems = issues.map((i) => `${where}${i.path ? '.' + i.path.map((p) => String(p.key)).join('.') : ''}: ${i.message}`);
  return new OnDeviceError('INVALID_INPUT', problems.join('; '), { problems });
}
