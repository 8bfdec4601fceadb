import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import path from 'node:path';
import { chainHandlers, type Handler } from '../http/chainHandlers';
import { HttpError } from '../http/HttpError';
import { resolveUnderRoot, serveFile } from './staticFiles';

export interface AppServerOptions {
  /** Built app and library (vite output). */
  distDir: string;
  /** Model files (`npm run models:sync` puts them here). */
  modelsDir: string;
  /** The registry served at /models/registry.json. */
  registryFile: string;
  /** Send COOP/COEP so the page is cross-origin isolated (WASM threads). Default true. */
  isolation?: boolean;
  /** Extra handlers tried first (the collector mounts here); return true when handled. */
  handlers?: Handler[];
  /** Extra headers on every response (e.g. a Content-Security-Policy in tests). */
  headers?: Record<string, string>;
  /** Extra folders served under a URL prefix, e.g. { '/fixtures/': 'test/fixtures' }. */
  mounts?: Record<string, string>;
  /** Passed to http.createServer (timeouts that can only be set there). */
  serverOptions?: ServerOptions;
}

/** The one server behind `npm start`: app, library, onnxruntime files and models on one port. */
export function createAppServer(options: AppServerOptions): Server {
  const distDir = path.resolve(options.distDir);
  const modelsDir = path.resolve(options.modelsDir);
  const isolation = options.isolation ?? true;
  const common: Record<string, string> = {
    // Resources may be embedded from other origins (script tag, CORS fetches, COEP pages).
    'Access-Control-Allow-Origin': '*',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    ...(isolation ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {}),
    ...options.headers,
  };
  // A failure's cause goes to the log, not to the client; a response already under way can only be cut.
  const listener = chainHandlers(options.handlers ?? [], {
    headers: common,
    fallback: serveStatic,
    log: (line) => console.error(`app server: ${line}`),
  });
  return createServer(options.serverOptions ?? {}, listener);

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...common,
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Range, If-None-Match, If-Modified-Since, If-Range, Content-Type',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use GET or HEAD, not ${req.method}`, { headers: { Allow: 'GET, HEAD, OPTIONS' } });
    }
    const headers = { ...common, 'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, Last-Modified, Accept-Ranges' };
    let pathname = url.pathname;
    if (pathname === '/models/registry.json') {
      if (await serveFile(req, res, options.registryFile, headers)) return;
    }
    for (const [prefix, dir] of Object.entries(options.mounts ?? {})) {
      if (!pathname.startsWith(prefix)) continue;
      const file = await resolveUnderRoot(path.resolve(dir), pathname.slice(prefix.length));
      if (file && (await serveFile(req, res, file, headers))) return;
    }
    if (pathname.startsWith('/models/')) {
      const file = await resolveUnderRoot(modelsDir, pathname.slice('/models/'.length));
      if (file && (await serveFile(req, res, file, headers))) return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = await resolveUnderRoot(distDir, pathname);
    if (file && (await serveFile(req, res, file, headers))) return;
    throw new HttpError(404, 'NOT_FOUND', `not found: ${url.pathname}`);
  }
}
