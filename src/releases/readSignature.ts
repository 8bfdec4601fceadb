import type { TensorSpec } from '../core/schema/TensorSpec';
import { readSignatureInSandbox, type SandboxSettings } from '../sandbox';
import { withModelOnDisk } from './withModelOnDisk';

/**
 * Load uploaded `bytes` into onnxruntime-node in a sandbox child (never on the server's thread) to prove they
 * are a model this runtime accepts, and read its inputs and outputs. Bytes that do not load are
 * MODEL_LOAD_FAILED; loading past the sandbox limits for their size is TIMEOUT or OUT_OF_MEMORY with
 * `details.reason` `'TIMEOUT'` | `'MEMORY'`.
 */
export function readSignature(bytes: Uint8Array, settings?: SandboxSettings): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  return withModelOnDisk(bytes, (files) => readSignatureInSandbox(files, { settings, label: 'loading the upload' }));
}
