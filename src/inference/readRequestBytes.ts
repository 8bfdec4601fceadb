import type { IncomingMessage } from 'node:http';
import { V2Error } from './V2Error';

/**
 * The request body as bytes, bounded in size (413, before buffering when Content-Length says so) and in
 * time (408). Before a 413 is answered the rest of the body is read and dropped (up to 4× the limit and the
 * time bound, then the socket is destroyed), so an honest client still sending it reads the 413 instead of
 * EPIPE.
 */
export function readRequestBytes(req: IncomingMessage, options: { maxBytes: number; timeoutMs: number }): Promise<Uint8Array> {
  const tooLarge = (what: string) => new V2Error(413, 'BODY_TOO_LARGE', `${what} exceeds ${options.maxBytes} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    const error = tooLarge(`the body (${declared} bytes)`);
    return discardRest(req, 4 * options.maxBytes, options.timeoutMs).then(() => Promise.reject(error));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      stop();
      reject(new V2Error(408, 'BODY_TIMEOUT', `the body was not received within ${options.timeoutMs} ms`, { connection: 'close' }));
      void discardRest(req, 0, 0);
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        stop();
        const error = tooLarge('the body');
        void discardRest(req, 4 * options.maxBytes - size, options.timeoutMs).then(() => reject(error));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks, size));
    };
    const onClose = () => {
      stop();
      reject(new V2Error(400, 'INVALID_INPUT', 'the request was aborted'));
    };
    const stop = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}

/** Read and drop the rest of the body; resolves at its end, or once it passed `capBytes` or `timeoutMs` (socket destroyed). */
function discardRest(req: IncomingMessage, capBytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let discarded = 0;
    const done = (destroy: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      if (destroy) req.destroy();
      resolve();
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    const onData = (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > capBytes) done(true);
    };
    req.on('data', onData);
    req.once('end', () => done(false));
    req.once('close', () => done(false));
    req.once('error', () => done(false)); // a client reset; nothing left to do
    req.resume();
  });
}
