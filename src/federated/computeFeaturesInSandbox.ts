import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSandboxed, type SandboxSettings } from '../sandbox';
import type { tasks } from '../retrain/evaluationTasks';
import { evaluationTasksUrl } from '../retrain/evaluationTasksUrl';
import type { LabelledExample } from '../retrain/FieldSample';
import { packExamples } from '../retrain/packExamples';

/**
 * A features variant's `features` on labelled examples, computed in a sandbox child (the variant is a model someone
 * published): `[count, F]` row-major, and the labels as class indices (-1 for a label that is not an integer).
 */
export async function computeFeaturesInSandbox(
  variant: Uint8Array,
  examples: readonly LabelledExample[],
  featuresName: string,
  featureCount: number,
  settings?: SandboxSettings,
): Promise<{ features: Float32Array; labels: Int32Array }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-features-'));
  try {
    const model = path.join(dir, 'model.features.onnx');
    await writeFile(model, variant);
    const features = await runSandboxed<typeof tasks, 'features'>(
      evaluationTasksUrl,
      'features',
      { model, examples: packExamples(examples), features: featuresName, featureCount },
      { modelBytes: variant.byteLength, settings, label: 'the features of the base training set' },
    );
    const labels = Int32Array.from(examples, (e) => (Number.isInteger(Number(e.label)) ? Number(e.label) : -1));
    return { features, labels };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
