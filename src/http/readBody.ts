import type { IncomingMessage } from 'node:http';

// fatal: invalid UTF-8 is rejected rather than silently turned into U+FFFD. Without `stream`, decode()
// keeps no state between calls, so one decoder serves every request.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type BodyResult =
  | { ok: true; text: string }
  | { ok: false; status: 400 | 408 | 413; code: 'BODY_TOO_LARGE' | 'BODY_TIMEOUT' | 'BODY_ABORTED' | 'INVALID_UTF8'; error: string };

export interface ReadBodyOptions {
  maxBytes: number;
  timeoutMs: number;
  /**
   * After a 413 the rest of the body is read and thrown away up to this many bytes, so an honest
   * client that already sent it gets to read the 413 instead of a connection reset; past it the
   * socket is destroyed so a hostile stream costs nothing more.
   */
  discardCapBytes?: number;
}

/**
 * Read a request body as strict UTF-8 text, bounded in size and time. Stops buffering as soon as the
 * size limit is crossed (or before reading at all when Content-Length already says so).
 */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<BodyResult> {
  const discardCap = options.discardCapBytes ?? 4 * options.maxBytes;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    discardRest(req, discardCap);
    return Promise.resolve(tooLarge(options.maxBytes));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      // The caller answers 408 with Connection: close; any further byte just tears the socket down.
      finish({ ok: false, status: 408, code: 'BODY_TIMEOUT', error: `body not received within ${options.timeoutMs} ms` });
      discardRest(req, 0);
    }, options.timeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        finish(tooLarge(options.maxBytes));
        discardRest(req, discardCap - size);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      try {
        finish({ ok: true, text: utf8.decode(Buffer.concat(chunks, size)) });
      } catch {
        finish({ ok: false, status: 400, code: 'INVALID_UTF8', error: 'body is not valid UTF-8' });
      }
    };
    const onAborted = () => finish({ ok: false, status: 400, code: 'BODY_ABORTED', error: 'request aborted' });
    const finish = (result: BodyResult) => {
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

function tooLarge(maxBytes: number): BodyResult {
  return { ok: false, status: 413, code: 'BODY_TOO_LARGE', error: `body exceeds ${maxBytes} bytes` };
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
