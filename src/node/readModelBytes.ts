import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fetchModel } from '../core/fetchModel';
import { looksLikeModel } from '../core/looksLikeModel';
import { OnDeviceError } from '../core/OnDeviceError';
import { sha256Hex } from '../core/sha256';
import type { NodeModelSource } from './resolveNodeSource';

/**
 * The model's bytes, verified: a URL goes through the browser side's `fetchModel` (content checks,
 * sha256); a file is read from disk and checked the same way.
 */
export async function readModelBytes(source: NodeModelSource, signal?: AbortSignal): Promise<Uint8Array> {
  if (source.url) {
    const { bytes } = await fetchModel({ url: source.url, id: source.id, version: source.version, sha256: source.sha256 }, { signal });
    return bytes;
  }
  const file = source.file!;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file, { signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new OnDeviceError('ABORTED', `Loading ${source.id} was aborted`);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not read ${file}: ${(error as Error).message}`, { file });
  }
  const check = looksLikeModel(bytes.subarray(0, 64), null);
  if (!check.ok) throw new OnDeviceError('MODEL_FETCH_FAILED', `${path.basename(file)} is not a model: ${check.reason}`, { file });
  if (source.sha256) {
    const actual = await sha256Hex(bytes as Uint8Array<ArrayBuffer>);
    if (actual !== source.sha256) {
      throw new OnDeviceError('INTEGRITY_MISMATCH', `${source.id}: sha256 ${actual} does not match the expected ${source.sha256}`, {
        file,
        expected: source.sha256,
        actual,
      });
    }
  }
  return bytes;
}
