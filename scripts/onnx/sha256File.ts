import { hashFile } from '../../src/node/hashFile';

/** Hex sha256 and size of a file, streamed (external data files run to gigabytes). */
export function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  return hashFile(path);
}
