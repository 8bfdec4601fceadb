import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http/HttpError';

/**
 * The request body as it arrives, for streaming it somewhere (writeObject): past `timeoutMs` the request is
 * destroyed and iteration fails with 408 BODY_TIMEOUT; a client that goes away fails it with 400 BODY_ABORTED.
 * A declared Content-Length over `maxBytes` fails before a byte is read (413 BODY_TOO_LARGE). The socket is
 * paused while the consumer works on a piece (back-pressure), and each piece is handed on as the socket read it:
 * no copies, no concatenation.
 */
export async function* bodyWithDeadline(
  req: IncomingMessage,
  options: { timeoutMs: number; maxBytes: number },
): AsyncGenerator<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes)
    throw new HttpError(413, 'BODY_TOO_LARGE', `the file is larger than ${options.maxBytes} bytes (ONDEVICE_MAX_PUBLISH_BYTES)`, {
      details: {
        limitBytes: options.maxBytes,
      },
    });
  const pieces: Buffer[] = [];
  let ended = false;
  let failure: HttpError | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const onData = (piece: Buffer) => {
    pieces.push(piece);
    req.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onClose = () => {
    if (!req.complete) failure ??= new HttpError(400, 'BODY_ABORTED', 'the upload was cut off before its end');
    notify();
  };
  const timer = setTimeout(() => {
    failure = new HttpError(408, 'BODY_TIMEOUT', `the body was not received within ${options.timeoutMs} ms`, {
      headers: { connection: 'close' },
    });
    req.destroy();
    notify();
  }, options.timeoutMs);
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onClose);
  // Kept after iteration too: a request torn down later (a refusal closes the connection) must not throw unheard.
  req.on('error', ignore);
  try {
    for (;;) {
      if (failure) throw failure;
      const piece = pieces.shift();
      if (piece) {
        yield piece;
        continue;
      }
      if (ended) return;
      req.resume();
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
  }
}

function ignore(): void {}
