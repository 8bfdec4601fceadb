import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

/** Hex sha256 and size of a file (read whole: our largest model is ~11 MB). */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const data = await readFile(path);
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}
