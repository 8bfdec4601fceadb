import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { RuntimeFile } from '../core/RuntimeFiles';

const CONTENT_TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

export interface ServeRuntimeFilesOptions {
  /** The folder the files are read from (the package's `lib/`). */
  libDir: string;
  /** The URL path they are served under, ending in `/` (e.g. `/ondevice/`). */
  urlPrefix: string;
  files: readonly RuntimeFile[];
  /** Sent with every file: a dedicated worker of an isolated page needs COEP on its own script. */
  headers: Readonly<Record<string, string>>;
}

/**
 * A connect middleware for `vite dev`: serves exactly `files` from `libDir` under `urlPrefix`, as they
 * are (never through Vite's transforms, which would rewrite onnxruntime's worker imports), and passes
 * every other request on.
 */
export function serveRuntimeFiles({ libDir, urlPrefix, files, headers }: ServeRuntimeFilesOptions) {
  const served = new Map(files.map((file) => [urlPrefix + file.url, file]));
  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const file = served.get(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!file) return next();
    res.writeHead(200, {
      ...headers,
      'Content-Type': CONTENT_TYPES[path.extname(file.url)] ?? 'application/octet-stream',
      'Content-Length': String(file.bytes),
      'Cache-Control': 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = createReadStream(path.join(libDir, file.url));
    stream.once('error', (error) => res.destroy(error));
    stream.pipe(res);
  };
}
