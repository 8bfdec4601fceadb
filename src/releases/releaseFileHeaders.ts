import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRange, type ByteRange } from '../core/parseRange';

/**
 * The headers of a published file and how much of it to send: immutable (its URL names one version, whose
 * files never change), ETag = sha256, and one byte range per RFC 9110 §14.2 (the model store resumes an
 * interrupted download with `Range: bytes=N-`; several ranges or a malformed one get the whole file). Answers
 * 304 and 416 itself and returns undefined then.
 */
export function startReleaseFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: { sha256: string; bytes: number },
): { start: number; end: number } | undefined {
  const etag = `"${file.sha256}"`;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Cache-Control': 'public, max-age=31536000, immutable',
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, Accept-Ranges',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
  };
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return undefined;
  }
  const size = file.bytes;
  const ifRange = req.headers['if-range'];
  const range: ByteRange = req.headers.range && (!ifRange || ifRange === etag) ? parseRange(req.headers.range, size) : undefined;
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
    res.end();
    return undefined;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'Content-Length': String(end - start + 1),
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  return { start, end };
}
