import type { IncomingMessage } from 'node:http';
import { ReleaseError } from './ReleaseError';

/**
 * The request body as it arrives, for streaming it somewhere (writeObject): past `timeoutMs` the request is
 * destroyed and iteration fails with 408 BODY_TIMEOUT; a client that goes away fails it with 400 BODY_ABORTED.
 * A declared Content-Length over `maxBytes` fails before a byte is read (413 BODY_TOO_LARGE).
 */
export async function* bodyWithDeadline(
  req: IncomingMessage,
  options: { timeoutMs: number; maxBytes: number },
): AsyncGenerator<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes)
    throw new ReleaseError(413, 'BODY_TOO_LARGE', `the file is larger than ${options.maxBytes} bytes (ONDEVICE_MAX_PUBLISH_BYTES)`, {
      limitBytes: options.maxBytes,
    });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    req.destroy();
  }, options.timeoutMs);
  try {
    for await (const data of req) yield data as Buffer;
    // A client that closes mid-body ends the stream without an error on some Node versions.
    if (!req.complete) throw new Error('aborted');
  } catch (error) {
    if (error instanceof ReleaseError) throw error;
    if (timedOut) throw new ReleaseError(408, 'BODY_TIMEOUT', `the body was not received within ${options.timeoutMs} ms`);
    throw new ReleaseError(400, 'BODY_ABORTED', 'the upload was cut off before its end');
  } finally {
    clearTimeout(timer);
  }
}
