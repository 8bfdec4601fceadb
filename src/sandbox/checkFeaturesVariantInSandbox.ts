import type { Feeds } from '../core/protocol';
import type { tasks } from './modelTasks';
import { modelFilesBytes, type ModelFiles } from './ModelFiles';
import { modelTasksUrl } from './modelTasksUrl';
import { runSandboxed } from './runSandboxed';
import type { SandboxSettings } from './sandboxLimits';

/**
 * In a fresh sandbox child: run the model set and its features variant (the file `variant`) on `feeds`; throw
 * INFERENCE_FAILED when an output differs or `features` is not float32 [N, featureCount]. TIMEOUT or OUT_OF_MEMORY
 * (`details.reason` `'TIMEOUT'` | `'MEMORY'`) past the limits for both files' bytes.
 *
 * @example
 * await checkFeaturesVariantInSandbox({ onnx: 'model.onnx' }, 'model.features.onnx', feeds, { features: 'flat', featureCount: 1152, label: 'digits@2' });
 */
export async function checkFeaturesVariantInSandbox(
  files: ModelFiles,
  variant: string,
  feeds: Feeds,
  options: { features: string; featureCount: number; label: string; settings?: SandboxSettings },
): Promise<{ worstDiff: number }> {
  return runSandboxed<typeof tasks, 'featuresVariant'>(
    modelTasksUrl,
    'featuresVariant',
    { files, variant, feeds, features: options.features, featureCount: options.featureCount, label: options.label },
    {
      modelBytes: (await modelFilesBytes(files)) + (await modelFilesBytes({ onnx: variant })),
      settings: options.settings,
      label: `${options.label}: the features variant`,
    },
  );
}
