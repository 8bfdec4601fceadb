// The servers' toolkit (src/http) on a real server on 127.0.0.1: the route table's answers in both error
// shapes, access checks, and the one body reader with its one drain policy.
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { accessPolicy } from '../../src/http/accessPolicy';
import { HttpError } from '../../src/http/HttpError';
import { readBodyBytes } from '../../src/http/readBodyBytes';
import { readJsonBody } from '../../src/http/readJsonBody';
import { routeRequest, type RouteTable } from '../../src/http/routeRequest';
import type { Route } from '../../src/http/Route';
import { sendJson } from '../../src/http/sendJson';

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Serve `table` on a free port; a path it does not own gets 418 (so the test sees the table said no). */
async function serve(table: RouteTable): Promise<string> {
  server = createServer((req, res) => {
    void routeRequest(table, req, res).then((handled) => handled || res.writeHead(418).end());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One request; `body` is written in `chunks` pieces so a server may answer before the end. */
function call(
  host: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Uint8Array; chunks?: number } = {},
): Promise<Answer> {
  const [hostname, port] = host.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port: Number(port), method, path, headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    const body = options.body ?? new Uint8Array(0);
    const chunks = options.chunks ?? 1;
    const size = Math.ceil(body.byteLength / chunks);
    for (let i = 0; i < body.byteLength; i += size) req.write(body.subarray(i, i + size));
    req.end();
  });
}

const echoRoutes: Route[] = [
  { path: '/v1/things', methods: ['GET', 'HEAD'], access: 'read', handle: (_req, res) => sendJson(res, 200, { things: [] }) },
  {
    path: '/v1/things',
    methods: ['POST'],
    access: 'write',
    bodyType: 'application/json',
    handle: async (req, res) => sendJson(res, 201, await readJsonBody(req)),
  },
  {
    path: '/v1/things/{id}/bytes',
    methods: ['PUT'],
    access: 'public',
    maxBodyBytes: 1000,
    handle: async (req, res, { params }) => {
      const bytes = await readBodyBytes(req, { maxBytes: 1000, timeoutMs: 2000 });
      sendJson(res, 200, { id: params.id, bytes: bytes.byteLength });
    },
  },
  {
    // A long deadline: only the byte cap can stop discarding what follows a 413.
    path: '/v1/patient',
    methods: ['PUT'],
    access: 'public',
    handle: async (req, res) => sendJson(res, 200, { bytes: (await readBodyBytes(req, { maxBytes: 1000, timeoutMs: 60_000 })).byteLength }),
  },
  {
    path: '/v1/broken',
    methods: ['GET'],
    access: 'public',
    handle: () => {
      throw new Error('a bug');
    },
  },
];

function table(overrides: Partial<RouteTable> = {}): RouteTable {
  return {
    name: 'test',
    routes: echoRoutes,
    owns: (p) => p.startsWith('/v1/'),
    access: accessPolicy({}),
    params: { id: (id) => (/^[a-z]+$/.test(id) ? undefined : `id ${JSON.stringify(id)} must be lower-case letters`) },
    ...overrides,
  };
}

describe('routeRequest', () => {
  test('answers 404 for an owned path no route matches, and leaves other paths to the next handler', async () => {
    const host = await serve(table());
    expect(await call(host, 'GET', '/v1/nothing')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND', path: '$' } });
    expect((await call(host, 'GET', '/elsewhere')).status).toBe(418);
  });

  test('answers 405 with the methods of every route on the path', async () => {
    const host = await serve(table());
    const answer = await call(host, 'DELETE', '/v1/things');
    expect(answer).toMatchObject({ status: 405, body: { code: 'METHOD_NOT_ALLOWED' } });
    expect(answer.headers.allow).toBe('GET, HEAD, POST');
  });

  test('decodes {param} segments and answers a malformed one 400 before anything else', async () => {
    const host = await serve(table());
    expect(await call(host, 'PUT', '/v1/things/abc/bytes', { body: new Uint8Array(10) })).toMatchObject({
      status: 200,
      body: { id: 'abc', bytes: 10 },
    });
    expect(await call(host, 'DELETE', '/v1/things/a%2Fb/bytes')).toMatchObject({ status: 400, body: { code: 'INVALID_INPUT' } });
  });

  test('refuses a write from a browser and a read for a foreign Host, in the v1 shape', async () => {
    const host = await serve(table());
    const json = { 'content-type': 'application/json' };
    const body = new TextEncoder().encode('{"a":1}');
    expect(await call(host, 'POST', '/v1/things', { headers: json, body })).toMatchObject({ status: 201, body: { a: 1 } });
    expect(await call(host, 'POST', '/v1/things', { headers: { ...json, origin: 'https://evil.example' }, body })).toMatchObject({
      status: 403,
      body: { code: 'BROWSER_REQUEST_REFUSED', path: '$' },
    });
    expect(await call(host, 'POST', '/v1/things', { headers: { 'content-type': 'text/plain' }, body })).toMatchObject({
      status: 415,
      body: { code: 'UNSUPPORTED_MEDIA_TYPE' },
    });
    expect(await call(host, 'GET', '/v1/things', { headers: { host: 'attacker.example' } })).toMatchObject({
      status: 403,
      body: { code: 'HOST_NOT_ALLOWED' },
    });
  });

  test('asks for the read token off loopback', async () => {
    const host = await serve(table({ access: accessPolicy({ listenHost: '0.0.0.0', readToken: 's3cret' }) }));
    const refused = await call(host, 'GET', '/v1/things');
    expect(refused).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await call(host, 'GET', '/v1/things', { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });

  test('answers a failure that is no HttpError 500 without its message, and logs it', async () => {
    const lines: string[] = [];
    const host = await serve(table({ log: (line) => lines.push(line) }));
    expect(await call(host, 'GET', '/v1/broken')).toMatchObject({ status: 500, body: { error: 'internal error', code: 'INTERNAL' } });
    expect(lines).toEqual([expect.stringMatching(/^test: GET \/v1\/broken failed: Error: a bug/)]);
  });

  test('writes the v2 shape ({error, code}) with the family headers', async () => {
    const host = await serve(
      table({
        routes: [
          {
            path: '/v1/v2ish',
            methods: ['GET'],
            access: 'public',
            handle: () => {
              throw new HttpError(429, 'RATE_LIMITED', 'too many requests', { headers: { 'retry-after': '3' } });
            },
          },
        ],
        errors: { shape: 'v2', headers: { 'access-control-allow-origin': '*' } },
      }),
    );
    const answer = await call(host, 'GET', '/v1/v2ish');
    expect(answer).toMatchObject({ status: 429, body: { error: 'too many requests', code: 'RATE_LIMITED' } });
    expect(answer.body).not.toHaveProperty('path');
    expect(answer.headers).toMatchObject({ 'retry-after': '3', 'access-control-allow-origin': '*' });
  });
});

describe('readBodyBytes', () => {
  test('refuses a body over the limit with 413, and the client still sending it reads the answer', async () => {
    const host = await serve(table());
    // Declared too large: refused before reading; streamed (no Content-Length) past the limit: refused mid-way.
    const big = new Uint8Array(3000);
    expect(await call(host, 'PUT', '/v1/things/abc/bytes', { body: big, chunks: 30, headers: { 'content-length': '3000' } })).toMatchObject(
      {
        status: 413,
        body: { code: 'BODY_TOO_LARGE' },
      },
    );
    expect(
      await call(host, 'PUT', '/v1/things/abc/bytes', { body: big, chunks: 30, headers: { 'transfer-encoding': 'chunked' } }),
    ).toMatchObject({ status: 413, body: { code: 'BODY_TOO_LARGE' } });
  });

  test('answers a body that stops arriving 408 and closes the connection', async () => {
    const host = await serve(table());
    const [hostname, port] = host.split(':');
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        { hostname, port: Number(port), method: 'PUT', path: '/v1/things/abc/bytes', headers: { 'content-length': '100' } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(parts).toString()) }),
          );
        },
      );
      req.on('error', reject);
      req.write(new Uint8Array(10)); // then nothing: the body deadline (2 s) passes
    });
    expect(answer).toMatchObject({ status: 408, body: { code: 'BODY_TIMEOUT' } });
    expect(answer.headers.connection).toBe('close');
  });

  test('stops discarding a refused body past 4 × the limit: the socket is destroyed', async () => {
    const host = await serve(table());
    const [hostname, port] = host.split(':');
    // An endless stream on a kept-alive connection (so only the server can end it): after the 413 the
    // server reads at most ~4000 more bytes, then cuts the connection.
    const closed = await new Promise<string>((resolve) => {
      setTimeout(() => resolve('still open after 10 s'), 10_000).unref();
      const req = request(
        { hostname, port: Number(port), method: 'PUT', path: '/v1/patient', agent: new Agent({ keepAlive: true }) },
        (res) => res.resume(),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.on('socket', (socket) => socket.on('close', () => resolve('socket closed')));
      const chunk = new Uint8Array(1000);
      const pump = () => {
        while (req.write(chunk));
        req.once('drain', pump);
      };
      pump();
    });
    // A reset, not an orderly close: the server destroyed the socket with data still coming.
    expect(['ECONNRESET', 'EPIPE']).toContain(closed);
  });
});
