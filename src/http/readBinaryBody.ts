import type { IncomingMessage } from 'node:http';

export type BinaryBodyResult =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; status: 400 | 408 | 413; code: 'BODY_TOO_LARGE' | 'BODY_TIMEOUT' | 'BODY_ABORTED'; error: string };

/**
 * Read a request body as bytes, bounded in size and time (the collector's readBody decodes UTF-8 text;
 * a model upload is binary). A body over the limit or past the deadline is answered, and the socket
 * destroyed so the client stops sending.
 */
export function readBinaryBody(req: IncomingMessage, options: { maxBytes: number; timeoutMs: number }): Promise<BinaryBodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    req.resume();
    return Promise.resolve(tooLarge(options.maxBytes));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      finish({ ok: false, status: 408, code: 'BODY_TIMEOUT', error: `body not received within ${options.timeoutMs} ms` });
      req.resume();
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        finish(tooLarge(options.maxBytes));
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, bytes: new Uint8Array(Buffer.concat(chunks, size)) });
    const onAborted = () => finish({ ok: false, status: 400, code: 'BODY_ABORTED', error: 'request aborted' });
    const finish = (result: BinaryBodyResult) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onAborted);
      resolve(result);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAborted);
    req.once('close', onAborted);
  });
}

function tooLarge(maxBytes: number): BinaryBodyResult {
  return { ok: false, status: 413, code: 'BODY_TOO_LARGE', error: `body exceeds ${maxBytes} bytes` };
}
