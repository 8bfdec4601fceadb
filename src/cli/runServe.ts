import { createServer } from 'node:http';
import { chainHandlers } from '../http/chainHandlers';
import { serveUntilSignal } from '../http/serveUntilSignal';
import { deliverToCollector } from '../inference/collectorDelivery';
import { createInferenceServer } from '../inference/createInferenceServer';
import { InferenceEventQueue } from '../inference/InferenceEventQueue';
import { inferenceServerOptionsFromEnv } from '../inference/inferenceServerOptionsFromEnv';
import { parseCommandLine, positiveInt } from './parseArgs';
import { UsageError } from './UsageError';

export const SERVE_USAGE = `  ondevice serve [model.onnx] [--port 8080] [--host 127.0.0.1] [--workers N] [--models-dir DIR] [--collector URL] [--site-key KEY]
    the /v2 inference server alone; model.onnx: that one file served with no registry (as its name, lower-cased;
    its external data files beside it); --models-dir (or $ONDEVICE_MODELS_DIR): a folder with a registry.json,
    or a plain folder of .onnx files (each served as its file name, lower-cased)`;

/**
 * `ondevice serve [model.onnx] [--port 8080] [--host 127.0.0.1] [--workers N] [--models-dir DIR] [--collector URL] [--site-key KEY]`:
 * the v2 server alone. With a collector (`--collector` / `ONDEVICE_COLLECTOR_URL`) its inferences are POSTed
 * there in batches as `inference` events with backend 'server' (site key `--site-key` /
 * `ONDEVICE_COLLECTOR_SITE_KEY`, default "demo").
 */
export async function runServe(args: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(args, {
    port: { type: 'string' },
    host: { type: 'string' },
    workers: { type: 'string' },
    'models-dir': { type: 'string' },
    collector: { type: 'string' },
    'site-key': { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`serve takes one model file, got ${positionals.length}: ${positionals.join(' ')}`);
  const modelFile = positionals[0];
  if (modelFile !== undefined && values['models-dir'] !== undefined) throw new UsageError('pass a model file or --models-dir, not both');
  const host = (values.host as string | undefined) ?? process.env.HOST ?? '127.0.0.1';
  const port = Number(values.port ?? process.env.PORT ?? 8080);
  const fromEnv = inferenceServerOptionsFromEnv(process.env, host);
  const collectorUrl = (values.collector as string | undefined) ?? (process.env.ONDEVICE_COLLECTOR_URL || undefined);
  const siteKey = (values['site-key'] as string | undefined) ?? (process.env.ONDEVICE_COLLECTOR_SITE_KEY || 'demo');
  if (collectorUrl !== undefined && !URL.canParse(collectorUrl)) {
    throw new UsageError(`--collector must be a URL, got ${JSON.stringify(collectorUrl)}`);
  }
  const events = collectorUrl ? new InferenceEventQueue({ deliver: deliverToCollector({ url: collectorUrl, siteKey }) }) : undefined;
  const inference = await createInferenceServer({
    ...fromEnv,
    ...(events ? { recordInference: events.record } : {}),
    workers: values.workers === undefined ? fromEnv.workers : positiveInt(values.workers, 'workers', 1),
    ...(modelFile !== undefined ? { modelFile } : { modelsDir: (values['models-dir'] as string | undefined) ?? fromEnv.modelsDir }),
  });
  const server = createServer(chainHandlers([inference.handle], { shape: 'v2' }));
  serveUntilSignal(server, {
    host,
    port,
    announce: (url) =>
      `ondevice serve: ${inference.pool.size} workers, ${inference.catalog.entries.length} models (${[...new Set(inference.catalog.entries.map((e) => e.id))].join(', ')})${
        collectorUrl ? `, telemetry to ${collectorUrl}` : ''
      }; listening on ${url}`,
    close: async () => {
      await events?.close(3000);
      await inference.close();
    },
  });
}
