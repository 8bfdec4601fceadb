import { createHash, randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { CHUNK_BYTES, type ObjectStore } from './ObjectStore';
import { HttpError } from '../http/HttpError';

export interface WriteObjectOptions {
  /** The sha256 the bytes must have (an upload names it): otherwise 422 INTEGRITY_MISMATCH and nothing is kept. */
  sha256?: string;
  /** More bytes than this: 413 BODY_TOO_LARGE and nothing is kept. */
  maxBytes: number;
  /** Also write the bytes to this file (the server's disk copy); removed unless the object is complete. */
  copyTo?: string;
  chunkBytes?: number;
  now?: () => number;
}

export interface WrittenObject {
  sha256: string;
  bytes: number;
  /** Whether the store already had it (this write's chunks were dropped). */
  existed: boolean;
}

/**
 * Store the bytes `source` yields as one object, CHUNK_BYTES at a time, hashing as they come: memory holds one
 * chunk, never the file. The chunks are named as the object only once every byte arrived and the hash is
 * right; a source that fails (a dropped connection, a deadline) or bytes that are refused leave nothing
 * stored. Pulling from `source` only as fast as the store writes is the back-pressure: an upload's socket is
 * not read while a chunk is written.
 *
 * @example
 * const { sha256 } = await writeObject(store.objects, req, { sha256: expected, maxBytes: 2 ** 31 });
 */
export async function writeObject(
  objects: ObjectStore,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: WriteObjectOptions,
): Promise<WrittenObject> {
  const now = options.now ?? Date.now;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  const key = randomUUID();
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const copy = options.copyTo === undefined ? undefined : await open(options.copyTo, 'w');
  let filled = 0;
  let seq = 0;
  let bytes = 0;
  let finished = false;
  const flush = async () => {
    if (filled === 0) return;
    const piece = chunk.subarray(0, filled);
    await objects.writeChunk(key, seq++, piece);
    await copy?.write(piece);
    filled = 0;
  };
  await objects.beginWrite(key, now());
  try {
    for await (const data of source) {
      bytes += data.byteLength;
      if (bytes > options.maxBytes)
        throw new HttpError(413, 'BODY_TOO_LARGE', `the file is larger than ${options.maxBytes} bytes (ONDEVICE_MAX_PUBLISH_BYTES)`, {
          details: {
            limitBytes: options.maxBytes,
          },
        });
      hash.update(data);
      let offset = 0;
      while (offset < data.byteLength) {
        const n = Math.min(chunkBytes - filled, data.byteLength - offset);
        chunk.set(data.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === chunkBytes) await flush();
      }
    }
    await flush();
    const sha256 = hash.digest('hex');
    if (options.sha256 !== undefined && sha256 !== options.sha256)
      throw new HttpError(422, 'INTEGRITY_MISMATCH', `the bytes received hash to ${sha256}, not ${options.sha256}`, {
        details: {
          expected: options.sha256,
          actual: sha256,
        },
      });
    if (bytes === 0) throw new HttpError(400, 'INVALID_INPUT', 'the body is empty: send the file');
    await copy?.close();
    const stored = await objects.finishWrite(key, { sha256, bytes, chunkBytes, chunks: seq }, now());
    finished = true;
    return { sha256, bytes, existed: stored === 'existing' };
  } finally {
    if (!finished) {
      await copy?.close().catch(() => undefined);
      if (options.copyTo !== undefined) await rm(options.copyTo, { force: true });
      await objects.abandonWrite(key);
    }
  }
}
