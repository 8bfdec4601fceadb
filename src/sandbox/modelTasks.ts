// Child side: the model work the servers do with models they did not write (a publish's checks), run only inside
// a sandbox child (readSignatureInSandbox, writeOptimizedCopyInSandbox). Sessions load from the files, so
// onnxruntime-node resolves external data beside the `.onnx` file.
import type { Feeds } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { OnDeviceError } from '../core/OnDeviceError';
import { checkSameOutputs } from '../node/checkSameOutputs';
import { loadOrt } from '../node/loadOrt';
import { onnxruntimeVersion, writeOptimizedModel, type OptimizationLevel } from '../node/optimizeModel';
import { sessionSpecs } from '../node/sessionSpecs';
import type { ModelFiles } from './ModelFiles';

// Loaded before the server's first call arrives: onnxruntime-node's import is most of a child's start.
await loadOrt();

export const tasks = {
  /** Load the model set and read its inputs and outputs; a set that does not load is MODEL_LOAD_FAILED. */
  async signature({ files }: { files: ModelFiles }): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
    const ort = await loadOrt();
    let session;
    try {
      session = await ort.InferenceSession.create(files.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    } catch (error) {
      throw new OnDeviceError('MODEL_LOAD_FAILED', `onnxruntime could not load the model: ${(error as Error).message}`);
    }
    try {
      return sessionSpecs(session);
    } finally {
      await session.release();
    }
  },

  /** Write the set optimised at `level` to `to`, then check both compute the same outputs on `feeds`. */
  async optimizedCopy(a: {
    files: ModelFiles;
    to: string;
    level: OptimizationLevel;
    feeds: Feeds;
    label: string;
  }): Promise<{ worstDiff: number; onnxruntime: string }> {
    await writeOptimizedModel(a.files.onnx, a.to, a.level);
    return { worstDiff: await checkSameOutputs(a.files.onnx, a.to, a.feeds, a.label), onnxruntime: await onnxruntimeVersion() };
  },
};
