import type { Feeds } from '../core/protocol';
import type { OutputSummary } from '../core/eventSchema';

/**
 * The default output summary: argmax and score of the first output's first row when it looks like
 * class scores (float, last dim 2..100000). Never raw tensors.
 */
export function summarizeOutput(outputs: Feeds): Omit<OutputSummary, 'predictionId'> {
  const first = Object.values(outputs)[0];
  if (!first || !(first.data instanceof Float32Array)) return {};
  const classes = first.dims[first.dims.length - 1] ?? 0;
  if (classes < 2 || classes > 100_000 || first.data.length < classes) return {};
  let best = 0;
  for (let i = 1; i < classes; i++) if (first.data[i] > first.data[best]) best = i;
  const score = first.data[best];
  return Number.isFinite(score) ? { topClass: best, score: Math.max(-1e9, Math.min(1e9, score)) } : { topClass: best };
}
