import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore, StoredObject } from './ObjectStore';
import { startReleaseFile } from './releaseFileHeaders';

/**
 * Serve a stored object (a release file) with the release files' headers and Range (startReleaseFile): from
 * `diskCopy`, this server's copy checked against the sha256 when it was written, when there is one, else from the
 * database chunk by chunk. Either way a piece is read only once the socket took the last one (back-pressure), so a
 * slow client or many at once never make the server hold a file; a client that goes away stops the reads.
 */
export async function sendObject(
  req: IncomingMessage,
  res: ServerResponse,
  objects: ObjectStore,
  object: StoredObject,
  diskCopy?: string,
): Promise<void> {
  const range = startReleaseFile(req, res, object);
  if (!range) return;
  if (req.method === 'HEAD') return void res.end();
  if (diskCopy !== undefined) {
    // A client that goes away ends the pipeline with an error: nothing is left to answer.
    await pipeline(createReadStream(diskCopy, { start: range.start, end: range.end, highWaterMark: 256 * 1024 }), res).catch(() => {
      res.destroy();
    });
    return;
  }
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
