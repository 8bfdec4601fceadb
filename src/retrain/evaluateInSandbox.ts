import { modelFilesBytes, runSandboxed, type SandboxSettings } from '../sandbox';
import type { Accuracy } from './evaluateClassifier';
import type { tasks } from './evaluationTasks';
import type { LabelledExample } from './FieldSample';
import { packExamples } from './packExamples';

// From the sources the TypeScript task module, in the package the compiled evaluationTasks.js beside the CLI.
const evaluationTasks = new URL(import.meta.url.endsWith('.ts') ? './evaluationTasks.ts' : './evaluationTasks.js', import.meta.url);

/**
 * The current version's and the candidate's accuracy on the base set and on the held-back field slice, computed
 * in a sandbox child under the limits for both models' bytes (TIMEOUT or OUT_OF_MEMORY past them).
 */
export async function evaluateInSandbox(o: {
  models: { current: string; candidate: string };
  base: readonly LabelledExample[];
  field: readonly LabelledExample[];
  settings?: SandboxSettings;
}): Promise<{ base: { current: Accuracy; candidate: Accuracy }; field: { current: Accuracy; candidate: Accuracy } }> {
  const modelBytes = (await modelFilesBytes({ onnx: o.models.current })) + (await modelFilesBytes({ onnx: o.models.candidate }));
  return runSandboxed<typeof tasks, 'evaluate'>(
    evaluationTasks,
    'evaluate',
    { models: o.models, base: packExamples(o.base), field: packExamples(o.field) },
    { modelBytes, settings: o.settings, label: 'evaluating the candidate' },
  );
}
