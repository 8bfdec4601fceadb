import { readFile } from 'node:fs/promises';
import { parseFieldSamples, type LabelledExample } from './FieldSample';
import type { ModelRetrainConfig } from './retrainConfig';

/**
 * Built-in base evaluation sets by evaluator id: what a candidate must not get worse on. Another model
 * plugs its own in here, or points `evaluator` at a JSONL file in the dataset-export format.
 */
export const BASE_EVALUATIONS: Record<string, () => Promise<LabelledExample[]>> = {
  digits: async () => {
    const { mnistSplit } = await import('./digits/mnistSplit');
    return mnistSplit().heldOut.map((s) => ({
      inputs: { image: { type: 'float32' as const, dims: [1, 1, 28, 28], data: Array.from(s.pixels) } },
      label: s.label,
    }));
  },
};

/**
 * Built-in base training sets by id: what a model learnt from, never its evaluation set. Federated mode's
 * `baseTraining` trains the server's part of each round on it (digits: the MNIST training split).
 */
export const BASE_TRAINING_SETS: Record<string, () => Promise<LabelledExample[]>> = {
  digits: async () => {
    const { mnistSplit } = await import('./digits/mnistSplit');
    return mnistSplit().train.map((s) => ({
      inputs: { image: { type: 'float32' as const, dims: [1, 1, 28, 28], data: Array.from(s.pixels) } },
      label: s.label,
    }));
  },
};

/** A base training set by built-in id or `{ file }` (dataset-export lines). */
export async function loadBaseTraining(set: string | { file: string }): Promise<LabelledExample[]> {
  if (typeof set === 'object') return parseFieldSamples(await readFile(set.file, 'utf8'), set.file);
  const load = BASE_TRAINING_SETS[set];
  if (!load) throw new Error(`no built-in training set ${JSON.stringify(set)} (known: ${Object.keys(BASE_TRAINING_SETS).join(', ')})`);
  return load();
}

/** The base evaluation set a model's config names. */
export async function loadBaseEvaluation(evaluator: ModelRetrainConfig['evaluator']): Promise<LabelledExample[]> {
  if (typeof evaluator === 'object') return parseFieldSamples(await readFile(evaluator.file, 'utf8'), evaluator.file);
  const load = BASE_EVALUATIONS[evaluator];
  if (!load) throw new Error(`no built-in evaluator ${JSON.stringify(evaluator)} (known: ${Object.keys(BASE_EVALUATIONS).join(', ')})`);
  return load();
}
