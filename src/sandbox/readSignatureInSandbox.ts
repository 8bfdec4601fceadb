import type { TensorSpec } from '../core/schema/TensorSpec';
import type { tasks } from './modelTasks';
import { modelFilesBytes, type ModelFiles } from './ModelFiles';
import { modelTasksUrl } from './modelTasksUrl';
import { runSandboxed } from './runSandboxed';
import type { SandboxSettings } from './sandboxLimits';

/**
 * Load a model set in a fresh sandbox child to prove onnxruntime-node accepts it, and read its inputs and
 * outputs. Rejects with MODEL_LOAD_FAILED when it does not load, TIMEOUT or OUT_OF_MEMORY (`details.reason`
 * `'TIMEOUT'` | `'MEMORY'`) when loading passes the limits for the set's bytes.
 *
 * @example
 * const { inputs, outputs } = await readSignatureInSandbox({ onnx: '/srv/upload/model.onnx', externalData: ['model.onnx.data'] });
 */
export async function readSignatureInSandbox(
  files: ModelFiles,
  options: { settings?: SandboxSettings; label?: string } = {},
): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  return runSandboxed<typeof tasks, 'signature'>(
    modelTasksUrl,
    'signature',
    { files },
    { modelBytes: await modelFilesBytes(files), settings: options.settings, label: options.label ?? 'loading the model' },
  );
}
