// dist/integrity.json: Subresource Integrity hashes (sha384) of the files pages load by <script> or
// import, for `<script src=".../ondevice.js" integrity="sha384-…" crossorigin="anonymous">`.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SRI_FILES = ['ondevice.js', 'ondevice.mjs'];

export async function writeIntegrity(dist: string): Promise<Record<string, string>> {
  const integrity: Record<string, string> = {};
  for (const file of SRI_FILES) {
    integrity[file] = `sha384-${createHash('sha384')
      .update(await readFile(path.join(dist, file)))
      .digest('base64')}`;
  }
  await writeFile(path.join(dist, 'integrity.json'), `${JSON.stringify(integrity, null, 2)}\n`);
  return integrity;
}
