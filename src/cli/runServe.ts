import { createServer } from 'node:http';
import { createInferenceServer } from '../serve/createInferenceServer';
import { inferenceServerOptionsFromEnv } from '../serve/inferenceServerOptionsFromEnv';
import { parseArgs, positiveInt } from './parseArgs';

/** `ondevice serve [--port 8080] [--host 127.0.0.1] [--workers N] [--models-dir DIR]`: the v2 server alone. */
export async function runServe(args: string[]): Promise<void> {
  const values = parseArgs(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    workers: { type: 'string' },
    'models-dir': { type: 'string' },
  });
  const host = (values.host as string | undefined) ?? process.env.HOST ?? '127.0.0.1';
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const fromEnv = inferenceServerOptionsFromEnv(process.env, host);
  const inference = await createInferenceServer({
    ...fromEnv,
    workers: values.workers === undefined ? fromEnv.workers : positiveInt(values.workers, 'workers', 1),
    modelsDir: (values['models-dir'] as string | undefined) ?? fromEnv.modelsDir,
  });
  const server = createServer((req, res) => {
    void inference.handle(req, res).then((handled) => {
      if (!handled) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found","code":"NOT_FOUND"}');
    });
  });
  server.listen(port, host, () => {
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    console.log(
      `ondevice serve: ${inference.pool.size} workers, ${inference.catalog.entries.length} models; listening on http://${host}:${actual}`,
    );
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const force = setTimeout(() => process.exit(1), 5000);
      force.unref();
      server.close(() => void inference.close().finally(() => process.exit(0)));
      server.closeIdleConnections();
    });
  }
}
