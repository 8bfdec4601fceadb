import { stat } from 'node:fs/promises';
import path from 'node:path';
import { normalizeLocation, problemWithLocation } from '../core/onnx/dataLocation';
import { OnDeviceError } from '../core/OnDeviceError';

/**
 * A model as files on disk: an `.onnx` file and the external-data files it references, by their locations as the
 * model names them (relative to the model's folder: onnxruntime-node resolves external data from there).
 */
export interface ModelFiles {
  /** Path of the `.onnx` file. */
  onnx: string;
  /** Locations of its external-data files, inside the model's folder (`model.onnx_data`, `weights/part-1.bin`). */
  externalData?: readonly string[];
}

/** Every path of the set: the `.onnx` file first. A location that leaves the model's folder is INVALID_INPUT. */
export function modelFilePaths(files: ModelFiles): string[] {
  const dir = path.dirname(files.onnx);
  return [
    files.onnx,
    ...(files.externalData ?? []).map((location) => {
      const problem = problemWithLocation(location);
      if (problem) throw new OnDeviceError('INVALID_INPUT', `external data location ${JSON.stringify(location)} ${problem}`, { location });
      return path.join(dir, normalizeLocation(location));
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
