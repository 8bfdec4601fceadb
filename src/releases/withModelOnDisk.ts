import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelFiles } from '../sandbox';

/**
 * Write uploaded model bytes to a scratch folder as `model.onnx`, hand `work` the files (a sandbox child loads
 * them from there), and remove the folder when `work` settles.
 */
export async function withModelOnDisk<T>(bytes: Uint8Array, work: (files: ModelFiles, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-upload-'));
  try {
    const onnx = path.join(dir, 'model.onnx');
    await writeFile(onnx, bytes);
    return await work({ onnx }, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
