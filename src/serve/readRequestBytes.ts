import type { IncomingMessage } from 'node:http';
import { V2Error } from './V2Error';

/**
 * The request body as bytes, bounded in size (413, before buffering when Content-Length says so) and in
 * time (408). After a 413 the connection is closed rather than read to the end: a body that large is not
 * worth receiving.
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
    const timer = setTimeout(
      () => finish(new V2Error(408, 'BODY_TIMEOUT', `the body was not received within ${options.timeoutMs} ms`, { connection: 'close' })),
      options.timeoutMs,
    );
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
      if (error) {
        req.resume(); // drop whatever else arrives; the response closes the connection
        return reject(error);
      }
      resolve(Buffer.concat(chunks, size));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onClose);
    req.once('close', onClose);
  });
}
