// The real app server (src/start/createAppServer.ts) in-process on 127.0.0.1, recording every request
// it receives and every body byte it sends, with per-test handlers in front (cut a connection, serve the
// wrong bytes, deploy a new build). Used by the model-store, offline and service-worker tests.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from '../../src/start/createAppServer';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(ROOT, 'dist');
export const MODELS = path.join(ROOT, 'public/models');

export interface RecordedRequest {
  method: string;
  path: string;
  range?: string;
  headers: IncomingMessage['headers'];
  status?: number;
  /** Body bytes written to the socket (what the client may have received). */
  bytes: number;
}

export type TestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface RecordingAppServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests whose path matches. */
  requestsFor(pathname: string | RegExp): RecordedRequest[];
  /** Body bytes sent for matching paths. */
  bytesSentFor(pathname: string | RegExp): number;
  close(): Promise<void>;
}

export async function startRecordingAppServer(
  options: { isolation?: boolean; handlers?: TestHandler[] } = {},
): Promise<RecordingAppServer> {
  const requests: RecordedRequest[] = [];
  const record = (req: IncomingMessage, res: ServerResponse) => {
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', 'http://x').pathname,
      range: req.headers.range,
      headers: req.headers,
      bytes: 0,
    };
    requests.push(entry);
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (chunk?: unknown, ...rest: unknown[]) => ServerResponse;
    const count = (chunk: unknown) => {
      if (chunk && typeof chunk !== 'function')
        entry.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
    };
    res.write = ((chunk: unknown, ...rest: unknown[]) => (count(chunk), write(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (count(chunk), end(chunk, ...rest))) as typeof res.end;
    res.on('close', () => (entry.status = res.statusCode));
    return false;
  };
  const custom = (options.handlers ?? []).map(
    (h) => (req: IncomingMessage, res: ServerResponse) => h(req, res, new URL(req.url ?? '/', 'http://x')),
  );
  const server: Server = createAppServer({
    distDir: DIST,
    modelsDir: MODELS,
    registryFile: path.join(ROOT, 'models/registry.json'),
    isolation: options.isolation ?? true,
    handlers: [record, ...custom],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const match = (p: string, pattern: string | RegExp) => (typeof pattern === 'string' ? p === pattern : pattern.test(p));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    requestsFor: (pattern) => requests.filter((r) => match(r.path, pattern)),
    bytesSentFor: (pattern) => requests.filter((r) => match(r.path, pattern)).reduce((sum, r) => sum + r.bytes, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
