import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ObjectStore, StoredObject } from './ObjectStore';
import { startReleaseFile } from './releaseFileHeaders';

/**
 * Serve a stored object (a release file) chunk by chunk, with the release files' headers and Range
 * (startReleaseFile). One chunk is read at a time and the next only once the socket took the last one
 * (back-pressure), so a slow client or many at once never make the server hold a file; a client that goes
 * away stops the reads.
 */
export async function sendObject(req: IncomingMessage, res: ServerResponse, objects: ObjectStore, object: StoredObject): Promise<void> {
  const range = startReleaseFile(req, res, object);
  if (!range) return;
  if (req.method === 'HEAD') return void res.end();
  const first = Math.floor(range.start / object.chunkBytes);
  const last = Math.floor(range.end / object.chunkBytes);
  for (let seq = first; seq <= last; seq++) {
    if (res.destroyed) return;
    const chunk = await objects.readChunk(object, seq);
    const offset = seq * object.chunkBytes;
    const from = Math.max(range.start - offset, 0);
    const to = Math.min(range.end - offset + 1, chunk.byteLength);
    if (!res.write(chunk.subarray(from, to)) && !(await drained(res))) return;
  }
  res.end();
}

/** Resolves true when the socket wants more, false when the response closed first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (more: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(more);
    };
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}
