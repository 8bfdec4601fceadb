import type { Feeds } from './protocol';

/** The ArrayBuffers behind a set of feeds, to transfer (not copy) across a worker boundary. */
export function transferablesOf(feeds: Feeds): Transferable[] {
  const seen = new Set<ArrayBufferLike>();
  for (const t of Object.values(feeds)) {
    if (Array.isArray(t.data)) continue;
    const buffer = (t.data as { buffer: ArrayBufferLike }).buffer;
    // SharedArrayBuffers are shared, not transferred.
    if (buffer instanceof ArrayBuffer) seen.add(buffer);
  }
  return [...seen] as Transferable[];
}
