import type { IncomingMessage } from 'node:http';
import { HttpError } from './HttpError';

export interface BodyLimits {
  /** Largest body accepted; a larger one is 413 `BODY_TOO_LARGE`, refused before buffering when Content-Length says so. */
  maxBytes: number;
  /** Deadline for the whole body; past it 408 `BODY_TIMEOUT` (answered with `Connection: close`). */
  timeoutMs: number;
}

/**
 * A request body as bytes, bounded in size and time; throws an HttpError (413, 408, 400 `BODY_ABORTED`)
 * for the route table to answer. After a 413 the rest of the body is read and thrown away (discardBody)
 * so an honest client still sending it reads the answer instead of a connection reset.
 *
 * @example
 * const bytes = await readBodyBytes(req, { maxBytes: 64 * 1024 * 1024, timeoutMs: 30_000 });
 */
export function readBodyBytes(req: IncomingMessage, limits: BodyLimits): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `body exceeds ${limits.maxBytes} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    discardBody(req, { capBytes: 4 * limits.maxBytes, timeoutMs: limits.timeoutMs });
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      stop();
      reject(new HttpError(408, 'BODY_TIMEOUT', `body not received within ${limits.timeoutMs} ms`, { headers: { connection: 'close' } }));
      // The answer closes the connection; any further byte just tears the socket down.
      discardBody(req, { capBytes: 0 });
    }, limits.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        stop();
        reject(tooLarge());
        discardBody(req, { capBytes: 4 * limits.maxBytes - size, timeoutMs: limits.timeoutMs });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(new Uint8Array(Buffer.concat(chunks, size)));
    };
    const onAborted = () => {
      stop();
      reject(new HttpError(400, 'BODY_ABORTED', 'request aborted'));
    };
    const stop = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onAborted);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAborted);
    req.once('close', onAborted);
  });
}

/**
 * Read and throw away the rest of a request body that will not be used (too large, or refused before it
 * was read), so an honest client still sending it reads the answer instead of a connection reset. Past
 * `capBytes` more bytes or `timeoutMs` the socket is destroyed, so a hostile stream costs nothing more.
 * The one drain policy of every server: a 413 discards up to 4 × the size limit within the body deadline.
 */
export function discardBody(req: IncomingMessage, bounds: { capBytes: number; timeoutMs?: number }): void {
  if (req.readableEnded) return;
  let discarded = 0;
  const stop = (destroy: boolean) => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    if (destroy) req.destroy();
  };
  const timer = bounds.timeoutMs === undefined ? undefined : setTimeout(() => stop(true), bounds.timeoutMs);
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > bounds.capBytes) stop(true);
  };
  const onEnd = () => stop(false);
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', () => stop(false)); // the destroy above or a client reset; nothing left to do
  req.resume();
}
