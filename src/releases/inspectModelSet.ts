import type { TensorSpec } from '../core/schema/TensorSpec';
import { runSandboxed, type SandboxSettings } from '../sandbox';
import type { tasks } from './publishTasks';
import type { AssembledSet } from './ReleaseFileCache';

// From the sources the TypeScript task module, next to compiled code the compiled one.
const publishTasksUrl = new URL(import.meta.url.endsWith('.ts') ? './publishTasks.ts' : './publishTasks.js', import.meta.url);

/**
 * Check an assembled set as one model and read its signature, in a fresh sandbox child under the limits for the
 * set's bytes (publishTasks `inspect`). Past a limit: TIMEOUT or OUT_OF_MEMORY with `details.reason`.
 *
 * @example
 * const { inputs, outputs } = await inspectModelSet(set, [{ location: 'model.onnx_data', bytes: 81920 }], 'big@1');
 */
export function inspectModelSet(
  set: AssembledSet,
  dataFiles: ReadonlyArray<{ location: string; bytes: number }>,
  label: string,
  settings?: SandboxSettings,
): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  return runSandboxed<typeof tasks, 'inspect'>(
    publishTasksUrl,
    'inspect',
    { onnx: set.onnx, dataFiles: dataFiles.map(({ location, bytes }) => ({ location, bytes })) },
    { modelBytes: set.bytes, settings, label: `${label}: checking the uploaded files` },
  );
}
