// An HTTP proxy in front of a real server that can drop one connection part-way through a response, as a flaky
// network does: the client sees the headers and the first bytes, then the connection ends short of the length. Everything else passes through
// unchanged; every request's path and Range header are recorded.
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CuttingProxy {
  /** e.g. http://127.0.0.1:41234: the origin the browser uses. */
  url: string;
  /** Requests seen, in order. */
  requests: Array<{ path: string; range: string | undefined; status?: number }>;
  /** The next request whose path starts with `pathPrefix` and asks for the whole file gets `afterBytes` of its body, then the connection is cut. */
  cutNext(pathPrefix: string, afterBytes: number): void;
  close(): Promise<void>;
}

export async function startCuttingProxy(target: string): Promise<CuttingProxy> {
  const upstream = new URL(target);
  const requests: CuttingProxy['requests'] = [];
  let cut: { pathPrefix: string; afterBytes: number } | undefined;
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    const seen: CuttingProxy['requests'][number] = { path, range: req.headers.range };
    requests.push(seen);
    const cutThis = cut && decodeURIComponent(path).startsWith(cut.pathPrefix) && !req.headers.range ? cut : undefined;
    if (cutThis) cut = undefined;
    const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (answer) => {
      seen.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!cutThis) return void answer.pipe(res);
      let sent = 0;
      answer.on('data', (piece: Buffer) => {
        const room = cutThis.afterBytes - sent;
        if (room <= 0) return;
        sent += piece.length;
        if (piece.length < room) return void res.write(piece);
        // FIN rather than a reset, so the client reads every byte sent before it sees the body end short.
        res.write(piece.subarray(0, room), () => {
          answer.destroy();
          res.socket?.end();
        });
      });
    });
    forward.once('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    cutNext(pathPrefix, afterBytes) {
      cut = { pathPrefix, afterBytes };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
