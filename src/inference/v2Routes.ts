import type { Route } from '../http/Route';
import { handleInfer, type InferContext } from './handleInfer';
import type { ServableEntry } from './ReleasedModels';
import { modelMetadata } from './modelMetadata';
import { sendV2Json } from './sendV2';
import { v2Error } from './v2Error';

const READ = ['GET', 'HEAD'] as const;
// Ids and versions are matched by these patterns and looked up in the registry and the published versions only:
// they never reach the file system.
const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Where /v2 finds the models it serves: the registry's entries, and in npm start the published versions too. */
export interface ServableModels {
  /** Version `version` of `id`, or the one a request without a version runs; undefined when there is none. */
  find(id: string, version: string | undefined): Promise<ServableEntry | undefined>;
  /** Every version of `id` (the metadata's `versions`). */
  versionsOf(id: string): Promise<string[]>;
}

/** The Open Inference Protocol's REST endpoints (health, server and model metadata, readiness, infer). */
export function v2Routes(models: ServableModels, isReady: () => boolean, infer: InferContext): Route[] {
  const model = async (params: Readonly<Record<string, string>>): Promise<ServableEntry> => {
    const { model: id, version } = params;
    if (!MODEL_ID.test(id) || (version !== undefined && !VERSION.test(version))) throw v2Error(404, 'NOT_FOUND', 'no such endpoint');
    const entry = await models.find(id, version);
    if (entry) return entry;
    const what = version === undefined ? `model "${id}"` : `version "${version}" of model "${id}"`;
    throw v2Error(404, 'NOT_FOUND', `unknown ${what}`);
  };
  // Each model endpoint names the model alone or one of its versions.
  const modelPaths = (leaf: string) => [`/v2/models/{model}${leaf}`, `/v2/models/{model}/versions/{version}${leaf}`];
  return [
    ...['/v2', '/v2/'].map((path): Route => ({
      path,
      methods: READ,
      access: 'public',
      handle: (_req, res) => sendV2Json(res, 200, { name: 'ondevice', version: '0.1.0', extensions: ['binary_tensor_data'] }),
    })),
    { path: '/v2/health/live', methods: READ, access: 'public', handle: (_req, res) => sendV2Json(res, 200, { live: true }) },
    { path: '/v2/health/ready', methods: READ, access: 'public', handle: (_req, res) => sendV2Json(res, 200, { ready: isReady() }) },
    ...modelPaths('').map((path): Route => ({
      path,
      methods: READ,
      access: 'public',
      handle: async (_req, res, { params }) => {
        const entry = await model(params);
        sendV2Json(res, 200, modelMetadata(entry, await models.versionsOf(entry.id)));
      },
    })),
    ...modelPaths('/ready').map((path): Route => ({
      path,
      methods: READ,
      access: 'public',
      handle: async (_req, res, { params }) => {
        const entry = await model(params);
        sendV2Json(res, 200, { name: entry.id, version: entry.version, ready: true });
      },
    })),
    ...modelPaths('/infer').map((path): Route => ({
      path,
      methods: ['POST'],
      access: 'public',
      maxBodyBytes: infer.maxBodyBytes,
      bodyTimeoutMs: infer.bodyTimeoutMs,
      handle: async (req, res, { params }) => handleInfer(req, res, await model(params), infer),
    })),
  ];
}
