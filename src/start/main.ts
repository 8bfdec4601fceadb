// `npm start`: app + library + models + collector on one port.
// Env: PORT (default 8080), HOST (default 127.0.0.1), ONDEVICE_ISOLATION=0 to omit COOP/COEP,
// ONDEVICE_CSP to add a Content-Security-Policy header, ONDEVICE_FIXTURES_DIR to also serve a folder at
// /fixtures/ (tests), the collector's COLLECTOR_* variables (src/collector/collectorOptionsFromEnv.ts)
// and the server timeouts HTTP_*_TIMEOUT_MS (src/http/serverTimeouts.ts). Inferences answered on /v2
// are stored by the collector in process as `inference` events with backend 'server'.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectorOptionsFromEnv } from '../collector/collectorOptionsFromEnv';
import { createCollector } from '../collector/createCollector';
import { serveUntilSignal } from '../http/serveUntilSignal';
import { applyServerTimeouts, serverOptions, serverTimeoutsFromEnv, type ServerTimeouts } from '../http/serverTimeouts';
import { deliverToWriter } from '../inference/collectorDelivery';
import { createInferenceServer } from '../inference/createInferenceServer';
import { InferenceEventQueue } from '../inference/InferenceEventQueue';
import { inferenceServerOptionsFromEnv } from '../inference/inferenceServerOptionsFromEnv';
import { openReleaseControl } from '../releases/openReleaseControl';
import { releaseOptionsFromEnv } from '../releases/releaseOptionsFromEnv';
import { releasedModels } from '../releases/releasedModels';
import { JOB_FAILED_ALERT } from '../retrain/createRetrainControl';
import { openRetrainControl } from '../retrain/openRetrainControl';
import { retrainLeaseMsFromEnv } from '../retrain/retrainConfig';
import { storeFieldSamples } from '../retrain/storeFieldSamples';
import { federatedOptionsFromEnv } from '../federated/federatedOptionsFromEnv';
import { openFederatedControl } from '../federated/openFederatedControl';
import { createAppServer } from './createAppServer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

let timeouts: ServerTimeouts;
let siteKey = 'demo';
let clientPolicy: { siteKeys: ReadonlySet<string>; origins: '*' | ReadonlySet<string> } = { siteKeys: new Set([siteKey]), origins: '*' };
const collector = await (async () => {
  timeouts = serverTimeoutsFromEnv(process.env);
  const options = collectorOptionsFromEnv(process.env, host);
  siteKey = options.siteKeys?.[0] ?? siteKey;
  clientPolicy = {
    siteKeys: new Set(options.siteKeys ?? [siteKey]),
    origins: options.allowedOrigins === undefined || options.allowedOrigins === '*' ? '*' : new Set(options.allowedOrigins),
  };
  return createCollector({ ...options, releaseView: true, jobsView: true, externalAlertRules: [JOB_FAILED_ALERT] });
})().catch((e: Error) => {
  // One prefix: createCollector's messages carry none of their own.
  console.error(`collector: ${e.message}`);
  process.exit(1);
});

// The release control plane (/v1/manifest, /v1/releases/…) on the collector's database; ONDEVICE_ADMIN_TOKEN etc.
// in src/releases/releaseOptionsFromEnv.ts.
const releases = await (async () => {
  const { dbPath, ...options } = releaseOptionsFromEnv(process.env, host);
  return openReleaseControl(dbPath, {
    ...options,
    addKnownModel: (id, v) => collector.budget.addKnown(id, v),
    leader: collector.leader,
  });
})().catch((e: Error) => {
  console.error(`releases: ${e.message}`);
  process.exit(1);
});

// Federated rounds (/v1/federated/…): clients train and evaluate the head of a trainable model on their own
// examples; a federated job (config/retrain.json mode "federated") runs them beside the retraining jobs below.
const federated = await (async () => {
  const { dbPath, ...options } = releaseOptionsFromEnv(process.env, host);
  return openFederatedControl(dbPath, {
    ...options,
    ...federatedOptionsFromEnv(process.env),
    ...clientPolicy,
    databaseUrl: options.databaseUrl,
    releases: releases.service,
    modelsDir: path.join(root, 'public/models'),
    sandbox: options.sandbox,
  });
})().catch((e: Error) => {
  console.error(`federated: ${e.message}`);
  process.exit(1);
});

// Retraining jobs (/v1/jobs) and their triggers (config/retrain.json, or ONDEVICE_RETRAIN_CONFIG); the
// trainer runs as a child process. Field samples come from the collector's sample store.
const retrain = await (async () => {
  const { dbPath, ...options } = releaseOptionsFromEnv(process.env, host);
  return openRetrainControl(dbPath, {
    ...options,
    collector,
    releases: releases.service,
    modelsDir: path.join(root, 'public/models'),
    cwd: root,
    runFederated: (o) => federated.runJob(o),
    lockLeaseMs: retrainLeaseMsFromEnv(process.env),
    fieldSamples: storeFieldSamples(collector.storage.samples),
    countSamples: collector.storage.samples
      ? (modelId, sinceMs) => collector.storage.samples!.countSamples(modelId, undefined, sinceMs)
      : undefined,
  });
})().catch((e: Error) => {
  console.error(`retrain: ${e.message}`);
  process.exit(1);
});
federated.attachJobs(retrain.jobs);

// The Open Inference Protocol server (/v2/*); ONDEVICE_* variables in src/inference/inferenceServerOptionsFromEnv.ts.
// Its inferences reach the collector batched, off the response path, under the first accepted site key.
const serverEvents = new InferenceEventQueue({ deliver: deliverToWriter(collector.writer, siteKey) });
const inference = await createInferenceServer({
  ...inferenceServerOptionsFromEnv(process.env, host),
  recordInference: serverEvents.record,
  // Published versions too: the stable one without a version, any one by /versions/{v}, multi-file sets included.
  releases: releasedModels(releases.service),
});

const server = createAppServer({
  distDir: path.join(root, 'dist'),
  modelsDir: path.join(root, 'public/models'),
  registryFile: path.join(root, 'models/registry.json'),
  isolation: process.env.ONDEVICE_ISOLATION !== '0',
  headers: process.env.ONDEVICE_CSP ? { 'Content-Security-Policy': process.env.ONDEVICE_CSP } : {},
  mounts: process.env.ONDEVICE_FIXTURES_DIR ? { '/fixtures/': process.env.ONDEVICE_FIXTURES_DIR } : {},
  handlers: [federated.handle, retrain.handle, releases.handle, collector.handle, inference.handle],
  serverOptions: serverOptions(timeouts!),
});
// Deliberate bounds instead of Node's defaults (idle and trickling connections lived ~87 s): headers,
// whole request (never shorter than the longest route body deadline), idle keep-alive, idle socket.
applyServerTimeouts(server, timeouts!, Math.max(collector.longestBodyTimeoutMs, releases.longestBodyTimeoutMs));

serveUntilSignal(server, {
  host,
  port,
  announce: (url) => `ondevice listening on ${url} (app, models, collector at /v1/, dashboard at /dashboard)`,
  // Runs in flight end now (503), not when they would: their sandbox processes are killed.
  onSignal: () => void inference.close(),
  close: async () => {
    await serverEvents.close(2000);
    await inference.close();
    await retrain.close();
    await Promise.all([federated.close(), releases.close(), collector.close()]);
  },
});
