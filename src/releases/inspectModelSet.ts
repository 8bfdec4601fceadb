import type { TensorSpec } from '../core/protocol';
import type { AssembledSet } from './ReleaseFileCache';
import { runPublishTask } from './runPublishTask';

/** A check of uploaded files gets 60 s plus 100 ms per MiB of the set (a 2.5 GB set: about 5 minutes). */
export function publishCheckTimeoutMs(setBytes: number): number {
  return Math.ceil(60_000 + (100 * setBytes) / 1024 ** 2);
}

/**
 * Check an assembled set as one model and read its signature, in a child process (publishTasks `inspect`).
 *
 * @example
 * const { inputs, outputs } = await inspectModelSet(set, [{ location: 'model.onnx_data', bytes: 81920 }], 'big@1');
 */
export function inspectModelSet(
  set: AssembledSet,
  dataFiles: ReadonlyArray<{ location: string; bytes: number }>,
  label: string,
): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  return runPublishTask(
    'inspect',
    { onnx: set.onnx, dataFiles: dataFiles.map(({ location, bytes }) => ({ location, bytes })) },
    { timeoutMs: publishCheckTimeoutMs(set.bytes), label: `${label}: checking the uploaded files` },
  );
}
