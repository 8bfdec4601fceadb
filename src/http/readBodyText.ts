import type { IncomingMessage } from 'node:http';
import { HttpError } from './HttpError';
import { readBodyBytes, type BodyLimits } from './readBodyBytes';

// fatal: invalid UTF-8 is rejected rather than silently turned into U+FFFD. Without `stream`, decode()
// keeps no state between calls, so one decoder serves every request.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A request body as strict UTF-8 text (readBodyBytes' bounds); invalid UTF-8 is 400 `INVALID_UTF8`. */
export async function readBodyText(req: IncomingMessage, limits: BodyLimits): Promise<string> {
  const bytes = await readBodyBytes(req, limits);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new HttpError(400, 'INVALID_UTF8', 'body is not valid UTF-8');
  }
}
