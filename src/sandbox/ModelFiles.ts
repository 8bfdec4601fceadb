import { stat } from 'node:fs/promises';
import path from 'node:path';
import { OnDeviceError } from '../core/OnDeviceError';

/**
 * A model as files on disk: an `.onnx` file and the external-data files it references, in the same folder
 * (onnxruntime-node resolves external data from the model's folder).
 */
export interface ModelFiles {
  /** Path of the `.onnx` file. */
  onnx: string;
  /** Names of its external-data files, beside `onnx` (plain names, no folders). */
  externalData?: readonly string[];
}

/** Every path of the set: the `.onnx` file first. */
export function modelFilePaths(files: ModelFiles): string[] {
  const dir = path.dirname(files.onnx);
  return [
    files.onnx,
    ...(files.externalData ?? []).map((name) => {
      if (name !== path.basename(name) || name === '' || name === '.' || name === '..')
        throw new OnDeviceError('INVALID_INPUT', `external data must be a plain file name beside the model, got ${JSON.stringify(name)}`);
      return path.join(dir, name);
    }),
  ];
}

/** The set's size on disk: what the sandbox limits scale with. */
export async function modelFilesBytes(files: ModelFiles): Promise<number> {
  let bytes = 0;
  for (const file of modelFilePaths(files)) {
    try {
      bytes += (await stat(file)).size;
    } catch (error) {
      throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not read ${file}: ${(error as Error).message}`, { file });
    }
  }
  return bytes;
}
