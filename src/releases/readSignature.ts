import type { TensorSpec } from '../core/schema/TensorSpec';
import { OnDeviceError } from '../core/OnDeviceError';
import { loadOrt } from '../node/loadOrt';
import { sessionSpecs } from '../node/sessionSpecs';

/**
 * Load `bytes` into onnxruntime-node to prove they are a model this runtime accepts, and read its
 * inputs and outputs. Bytes that do not load are MODEL_LOAD_FAILED.
 */
export async function readSignature(bytes: Uint8Array): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  const ort = await loadOrt();
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    throw new OnDeviceError('MODEL_LOAD_FAILED', `onnxruntime could not load the uploaded bytes: ${(error as Error).message}`);
  }
  try {
    return sessionSpecs(session);
  } finally {
    await session.release();
  }
}
