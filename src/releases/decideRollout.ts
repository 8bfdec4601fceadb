import { differenceOfProportions, quantileInterval, wilson, zFor, type Interval } from './intervals';
import type { RolloutPolicy } from './rolloutPolicy';
import type { VersionCounts } from './VersionMetrics';

export interface VersionEvidence {
  version: string;
  inferences: number;
  errors: number;
  installs: number;
  feedback: number;
  accuracy: Interval;
  errorRate: Interval;
  p95Ms: Interval;
}

export interface RolloutEvidence {
  test: string;
  confidence: number;
  thresholds: Pick<
    RolloutPolicy,
    | 'minFeedback'
    | 'minInferences'
    | 'accuracyMargin'
    | 'errorRateMargin'
    | 'latencyP95Tolerance'
    | 'rollbackMinFeedback'
    | 'rollbackMinInferences'
  >;
  windowStartMs: number;
  stageStartMs: number;
  candidate: VersionEvidence;
  stable: VersionEvidence;
  /** In the current stage only (what the minimums count). */
  stage: { feedback: number; inferences: number };
  accuracyDifference: Interval;
  errorRateDifference: Interval;
}

export type RolloutDecision =
  | { action: 'rollback'; reason: string; evidence: RolloutEvidence }
  | { action: 'advance'; toPercent: number; reason: string; evidence: RolloutEvidence }
  /**
   * `because` names the unmet conditions (`stage-feedback`, `stage-inferences`, `stable-feedback`, `accuracy`,
   * `error-rate`, `p95`) without their numbers: a hold is logged only when these change.
   */
  | { action: 'hold'; reason: string; because: string[]; evidence: RolloutEvidence };

/** What a version's counts say, as estimates with intervals. */
export function evidenceOf(version: string, c: VersionCounts, z: number): VersionEvidence {
  return {
    version,
    inferences: c.inferences,
    errors: c.errors,
    installs: c.installs,
    feedback: c.feedback,
    accuracy: wilson(c.correct, c.feedback, z),
    errorRate: wilson(c.errors, c.inferences + c.errors, z),
    p95Ms: quantileInterval(c.latenciesMs, 0.95, z),
  };
}

/**
 * One step of the policy for a candidate at `percent` (> 0, < 100) against the stable version over the
 * same receive-time window. A significant regression rolls back at once; otherwise the candidate
 * advances to the next stage only when the stage's minimums are met and it is not worse on accuracy
 * (Newcombe interval of the difference above −margin), error rate (below +margin) and p95 latency.
 */
export function decideRollout(input: {
  policy: RolloutPolicy;
  percent: number;
  candidate: { version: string; counts: VersionCounts };
  stable: { version: string; counts: VersionCounts };
  stage: { feedback: number; inferences: number };
  windowStartMs: number;
  stageStartMs: number;
}): RolloutDecision {
  const { policy } = input;
  const z = zFor(policy.confidence);
  const cand = evidenceOf(input.candidate.version, input.candidate.counts, z);
  const stab = evidenceOf(input.stable.version, input.stable.counts, z);
  const c = input.candidate.counts;
  const s = input.stable.counts;
  const accuracyDifference = differenceOfProportions(c.correct, c.feedback, s.correct, s.feedback, z);
  const errorRateDifference = differenceOfProportions(c.errors, c.inferences + c.errors, s.errors, s.inferences + s.errors, z);
  const evidence: RolloutEvidence = {
    test: `Newcombe hybrid score interval (difference of proportions) and order-statistic p95 interval, ${policy.confidence * 100}% two-sided`,
    confidence: policy.confidence,
    thresholds: {
      minFeedback: policy.minFeedback,
      minInferences: policy.minInferences,
      accuracyMargin: policy.accuracyMargin,
      errorRateMargin: policy.errorRateMargin,
      latencyP95Tolerance: policy.latencyP95Tolerance,
      rollbackMinFeedback: policy.rollbackMinFeedback,
      rollbackMinInferences: policy.rollbackMinInferences,
    },
    windowStartMs: input.windowStartMs,
    stageStartMs: input.stageStartMs,
    candidate: cand,
    stable: stab,
    stage: input.stage,
    accuracyDifference,
    errorRateDifference,
  };
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

  const canJudgeAccuracy = c.feedback >= policy.rollbackMinFeedback && s.feedback >= policy.rollbackMinFeedback;
  if (canJudgeAccuracy && accuracyDifference.high < -policy.accuracyMargin)
    return {
      action: 'rollback',
      reason: `accuracy regression: candidate − stable = ${fmt(accuracyDifference.estimate)} [${fmt(accuracyDifference.low)}, ${fmt(accuracyDifference.high)}], entirely below −${policy.accuracyMargin}`,
      evidence,
    };
  const canJudgeRuns = c.inferences >= policy.rollbackMinInferences && s.inferences >= policy.rollbackMinInferences;
  if (canJudgeRuns && errorRateDifference.low > policy.errorRateMargin)
    return {
      action: 'rollback',
      reason: `error-rate regression: candidate − stable = ${fmt(errorRateDifference.estimate)} [${fmt(errorRateDifference.low)}, ${fmt(errorRateDifference.high)}], entirely above +${policy.errorRateMargin}`,
      evidence,
    };
  const latencyBound = stab.p95Ms.high * (1 + policy.latencyP95Tolerance);
  if (canJudgeRuns && cand.p95Ms.low > latencyBound)
    return {
      action: 'rollback',
      reason: `latency regression: candidate p95 ≥ ${fmt(cand.p95Ms.low)} ms, above stable p95 ≤ ${fmt(stab.p95Ms.high)} ms × ${1 + policy.latencyP95Tolerance}`,
      evidence,
    };

  const short: string[] = [];
  const shortBecause: string[] = [];
  const waitFor = (condition: string, text: string) => (short.push(text), shortBecause.push(condition));
  if (input.stage.feedback < policy.minFeedback)
    waitFor('stage-feedback', `${input.stage.feedback}/${policy.minFeedback} feedback samples in this stage`);
  if (input.stage.inferences < policy.minInferences)
    waitFor('stage-inferences', `${input.stage.inferences}/${policy.minInferences} inferences in this stage`);
  if (s.feedback < policy.minFeedback) waitFor('stable-feedback', `stable has ${s.feedback}/${policy.minFeedback} feedback samples`);
  if (short.length) return { action: 'hold', reason: `waiting for evidence: ${short.join(', ')}`, because: shortBecause, evidence };

  const worse: string[] = [];
  const worseBecause: string[] = [];
  const notShown = (condition: string, text: string) => (worse.push(text), worseBecause.push(condition));
  if (!(accuracyDifference.low > -policy.accuracyMargin))
    notShown('accuracy', `accuracy difference lower bound ${fmt(accuracyDifference.low)} not above −${policy.accuracyMargin}`);
  if (!(errorRateDifference.high < policy.errorRateMargin))
    notShown('error-rate', `error-rate difference upper bound ${fmt(errorRateDifference.high)} not below +${policy.errorRateMargin}`);
  if (s.inferences > 0 && c.inferences > 0 && !(cand.p95Ms.estimate <= stab.p95Ms.estimate * (1 + policy.latencyP95Tolerance)))
    notShown('p95', `p95 ${fmt(cand.p95Ms.estimate)} ms above stable ${fmt(stab.p95Ms.estimate)} ms × ${1 + policy.latencyP95Tolerance}`);
  if (worse.length) return { action: 'hold', reason: `not shown to be no worse: ${worse.join('; ')}`, because: worseBecause, evidence };

  const toPercent = policy.stages.find((p) => p > input.percent) ?? 100;
  return {
    action: 'advance',
    toPercent,
    reason: `no worse than stable ${input.stable.version} (accuracy difference ≥ ${fmt(accuracyDifference.low)}, error-rate difference ≤ ${fmt(errorRateDifference.high)}, p95 ${fmt(cand.p95Ms.estimate)} vs ${fmt(stab.p95Ms.estimate)} ms): ${input.percent}% → ${toPercent}%`,
    evidence,
  };
}
