import { open, readFile, truncate } from 'node:fs/promises';

/**
 * The `id`s of the rows an earlier run already wrote to `file`, so a rerun skips them. A last line cut
 * off mid-write (the process was killed) is removed: that row runs again.
 */
export async function readWrittenIds(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
  const complete = text.lastIndexOf('\n') + 1;
  if (complete < text.length) {
    await truncate(file, Buffer.byteLength(text.slice(0, complete)));
    text = text.slice(0, complete);
  }
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const id = (JSON.parse(line) as { id?: unknown }).id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // Not one of ours; leave it and run its row again.
    }
  }
  // Touch the file so a later append goes to the same inode even when it was just truncated.
  await (await open(file, 'a')).close();
  return ids;
}
