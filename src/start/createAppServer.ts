import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import path from 'node:path';
import { sendJson } from '../http/sendJson';
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
  handlers?: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean)[];
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
  return createServer(options.serverOptions ?? {}, (req, res) => {
    handle(req, res).catch((error: Error) => {
      // The cause goes to the log, not to the client; a response already under way can only be cut.
      console.error(`app server: ${req.method} ${req.url}: ${error.stack ?? error.message}`);
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { error: 'internal error', code: 'INTERNAL', path: '$' }, common);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const h of options.handlers ?? []) if (await h(req, res)) return;
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
      return sendJson(
        res,
        405,
        { error: `use GET or HEAD, not ${req.method}`, code: 'METHOD_NOT_ALLOWED', path: '$' },
        { ...common, Allow: 'GET, HEAD, OPTIONS' },
      );
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
    sendJson(res, 404, { error: `not found: ${url.pathname}`, code: 'NOT_FOUND', path: '$' }, common);
  }
}
