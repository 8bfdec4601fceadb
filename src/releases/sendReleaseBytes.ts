import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseRange } from '../core/parseRange';

/**
 * Serve a published version's bytes: immutable (the URL names one version, whose bytes never change),
 * ETag = sha256, and one byte range per RFC 9110 §14.2 like the static server (the model store resumes
 * interrupted downloads with `Range: bytes=N-`; several ranges or a malformed one get the whole body).
 */
export function sendReleaseBytes(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, sha256: string): void {
  const etag = `"${sha256}"`;
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
    return;
  }
  const size = bytes.byteLength;
  const ifRange = req.headers['if-range'];
  const range = req.headers.range && (!ifRange || ifRange === etag) ? parseRange(req.headers.range, size) : undefined;
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
    res.end();
    return;
  }
  const body = range ? bytes.subarray(range.start, range.end + 1) : bytes;
  res.writeHead(range ? 206 : 200, {
    ...headers,
    'Content-Length': String(body.byteLength),
    ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
