import type { Feeds } from '../core/protocol';
import type { OptimizationLevel } from '../node/optimizeModel';
import type { tasks } from './modelTasks';
import { modelFilesBytes, type ModelFiles } from './ModelFiles';
import { modelTasksUrl } from './modelTasksUrl';
import { runSandboxed } from './runSandboxed';
import type { SandboxSettings } from './sandboxLimits';

/**
 * In a fresh sandbox child: write the model set optimised at `level` to the file `to`, then run the original and
 * the copy on `feeds` and throw INFERENCE_FAILED when an output differs (checkSameOutputs). TIMEOUT or
 * OUT_OF_MEMORY (`details.reason` `'TIMEOUT'` | `'MEMORY'`) when the work passes the limits for the set's bytes.
 * Resolves with the largest absolute float difference and the onnxruntime version that wrote the copy.
 *
 * @example
 * await writeOptimizedCopyInSandbox({ onnx: 'model.onnx' }, 'model.extended.onnx', feeds, { level: 'extended', label: 'tiny-mlp@2' });
 */
export async function writeOptimizedCopyInSandbox(
  files: ModelFiles,
  to: string,
  feeds: Feeds,
  options: { level: OptimizationLevel; label: string; settings?: SandboxSettings },
): Promise<{ worstDiff: number; onnxruntime: string }> {
  return runSandboxed<typeof tasks, 'optimizedCopy'>(
    modelTasksUrl,
    'optimizedCopy',
    { files, to, level: options.level, feeds, label: options.label },
    { modelBytes: await modelFilesBytes(files), settings: options.settings, label: `${options.label}: the optimised copy` },
  );
}
