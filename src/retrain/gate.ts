import type { Accuracy } from './evaluateClassifier';

export interface GateInput {
  base: { current: Accuracy; candidate: Accuracy };
  field: { current: Accuracy; candidate: Accuracy };
  minFieldSamples: number;
  maxBaseDropPoints: number;
  minFieldGainPoints: number;
}

export interface GateDecision {
  passed: boolean;
  /** One sentence with the figures, e.g. "field +12.40 points (≥ 2), base -0.10 points (≥ -0.5)". */
  reason: string;
  /** Accuracy points (0–100): candidate minus current. */
  baseDeltaPoints: number;
  fieldDeltaPoints: number;
  fieldSamples: number;
}

const points = (a: Accuracy) => a.accuracy * 100;
const fmt = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}`;

/**
 * The validation gate: the candidate may lose at most `maxBaseDropPoints` on the base evaluation set and
 * must gain at least `minFieldGainPoints` on the held-back field slice, which needs `minFieldSamples`.
 */
export function decideGate(g: GateInput): GateDecision {
  const fieldSamples = g.field.current.count;
  // Rounded to 1e-6 points: 97.5 − 98 must be exactly −0.5, not −0.5000000000000142.
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const baseDeltaPoints = round(points(g.base.candidate) - points(g.base.current));
  const fieldDeltaPoints = fieldSamples === 0 ? 0 : round(points(g.field.candidate) - points(g.field.current));
  const figures = `field ${fmt(fieldDeltaPoints)} points on ${fieldSamples} held-back samples (need ≥ +${g.minFieldGainPoints}), base ${fmt(baseDeltaPoints)} points on ${g.base.current.count} (need ≥ -${g.maxBaseDropPoints})`;
  const decision = (passed: boolean, why: string): GateDecision => ({
    passed,
    reason: `${why}: ${figures}`,
    baseDeltaPoints,
    fieldDeltaPoints,
    fieldSamples,
  });
  if (fieldSamples < g.minFieldSamples) return decision(false, `not enough field data (${fieldSamples} < ${g.minFieldSamples} held back)`);
  if (!(baseDeltaPoints >= -g.maxBaseDropPoints)) return decision(false, 'worse on the base evaluation set');
  if (!(fieldDeltaPoints >= g.minFieldGainPoints)) return decision(false, 'not enough better on the field');
  return decision(true, 'passed');
}
