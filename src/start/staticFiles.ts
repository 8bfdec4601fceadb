import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { parseRange } from '../core/parseRange';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
  '.map': 'application/json; charset=utf-8',
};

export function contentTypeOf(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Map a URL path to a file under root, refusing anything that escapes it and any dotfile or dot-folder
 * (`.env`, `.git/`): those are never part of what we publish.
 */
export function safeJoin(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const normalized = path.posix.normalize('/' + decoded);
  if (normalized.split('/').some((segment) => segment.startsWith('.'))) return undefined;
  const full = path.resolve(root, '.' + normalized);
  return full === root || full.startsWith(root + path.sep) ? full : undefined;
}

/**
 * The file a URL path names under root, with symlinks resolved; undefined when it is missing, a dotfile,
 * or a link (the file or a folder on the way) that leads out of root — so a link in a served folder
 * never publishes `/etc/…`.
 */
export async function resolveUnderRoot(root: string, urlPath: string): Promise<string | undefined> {
  const file = safeJoin(root, urlPath);
  if (!file) return undefined;
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(file)]);
    return realFile === realRoot || realFile.startsWith(realRoot + path.sep) ? realFile : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serve one file with ETag/Last-Modified revalidation and single-range requests (the model store
 * resumes interrupted downloads with `Range: bytes=N-`).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  extraHeaders: Record<string, string> = {},
): Promise<boolean> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const lastModified = stat.mtime.toUTCString();
  const headers: Record<string, string> = {
    'Content-Type': contentTypeOf(file),
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': lastModified,
    'Cache-Control': 'no-cache',
    ...extraHeaders,
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  const range = req.headers.range;
  const ifRange = req.headers['if-range'];
  const rangeAllowed = !ifRange || ifRange === etag || ifRange === lastModified;
  const byteRange = range && rangeAllowed ? parseRange(range, stat.size) : undefined;
  if (byteRange === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${stat.size}` });
    res.end();
    return true;
  }
  if (byteRange) {
    const { start, end } = byteRange;
    res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${stat.size}`, 'Content-Length': String(end - start + 1) });
    if (req.method === 'HEAD') return (void res.end(), true);
    send(file, res, { start, end });
    return true;
  }
  res.writeHead(200, { ...headers, 'Content-Length': String(stat.size) });
  if (req.method === 'HEAD') return (void res.end(), true);
  send(file, res);
  return true;
}

/**
 * Stream the file to the response. `pipeline` closes the file when the client goes away mid-body (a
 * bare `pipe` leaves it open) and turns a read error into a cut response instead of an uncaught
 * exception in a process the collector shares.
 */
function send(file: string, res: ServerResponse, range?: { start: number; end: number }): void {
  pipeline(createReadStream(file, range), res, (error) => {
    // A client that leaves early is no error of ours; anything else is worth a line in the log.
    if (error && (error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`static: ${file}: ${error.message}`);
  });
}
