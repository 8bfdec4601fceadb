import type { IncomingMessage } from 'node:http';
import { V2Error } from './V2Error';

/**
 * The request body as bytes, bounded in size (413, before buffering when Content-Length says so) and in
 * time (408). After a 413 the rest of the body is read and dropped (up to 4× the limit, then the socket is
 * destroyed), so an honest client that already sent it reads the 413 instead of a connection reset.
 */
export function readRequestBytes(req: IncomingMessage, options: { maxBytes: number; timeoutMs: number }): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    return Promise.reject(
      new V2Error(413, 'BODY_TOO_LARGE', `the body (${declared} bytes) exceeds ${options.maxBytes} bytes`, { connection: 'close' }),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      finish(new V2Error(408, 'BODY_TIMEOUT', `the body was not received within ${options.timeoutMs} ms`, { connection: 'close' }));
      discardRest(req, 0);
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes)
        return finish(new V2Error(413, 'BODY_TOO_LARGE', `the body exceeds ${options.maxBytes} bytes`, { connection: 'close' }));
      chunks.push(chunk);
    };
    const onEnd = () => finish(undefined);
    const onClose = () => finish(new V2Error(400, 'INVALID_INPUT', 'the request was aborted'));
    const finish = (error: V2Error | undefined) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onClose);
      req.off('close', onClose);
      if (error) return reject(error);
      resolve(Buffer.concat(chunks, size));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}

function discardRest(req: IncomingMessage, capBytes: number): void {
  let discarded = 0;
  const onData = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > capBytes) {
      req.off('data', onData);
      req.destroy();
    }
  };
  req.on('data', onData);
  req.once('error', () => {}); // the destroy above or a client reset; nothing left to do
  req.resume();
}
