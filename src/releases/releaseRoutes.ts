import { HttpError } from '../http/HttpError';
import { holdIdleTimeout } from '../http/holdIdleTimeout';
import { readBodyBytes } from '../http/readBodyBytes';
import { readJsonBody } from '../http/readJsonBody';
import type { Route } from '../http/Route';
import { sendJson } from '../http/sendJson';
import { INSTALL_ID, MODEL_ID, VERSION, releaseOptimizedUrl } from './releaseIds';
import type { ReleaseService } from './ReleaseService';
import { sendReleaseBytes } from './sendReleaseBytes';

const READ = ['GET', 'HEAD'] as const;
const RELEASE = '/v1/releases/{model}/{version}';

/** The release control plane owns the manifest and everything under /v1/releases (an unknown path there is its 404). */
export function releasesOwn(pathname: string): boolean {
  return pathname === '/v1/manifest' || pathname === '/v1/releases' || pathname.startsWith('/v1/releases/');
}

/** Checks of the `{model}` and `{version}` segments, answered 400 before anything else. */
export const RELEASE_PARAMS = {
  model: (id: string) => (MODEL_ID.test(id) ? undefined : `model id ${JSON.stringify(id)} must match ${MODEL_ID}`),
  version: (v: string) => (VERSION.test(v) ? undefined : `version ${JSON.stringify(v)} must match ${VERSION}`),
};

/**
 * The endpoints: the per-install manifest and the bytes (public), the model list and a model's status
 * (read), publishing, rollout, promote and rollback (write).
 */
export function releaseRoutes(service: ReleaseService, upload: { maxBytes: number; timeoutMs: number }): Route[] {
  return [
    {
      path: '/v1/manifest',
      methods: READ,
      access: 'public',
      handle: async (req, res, { url }) => {
        const install = url.searchParams.get('install');
        if (install === null || !INSTALL_ID.test(install))
          throw new HttpError(400, 'INVALID_INPUT', 'expected ?install=<install id> (1–128 of A–Z a–z 0–9 . _ : -)');
        const text = JSON.stringify(await service.manifest(install));
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text),
          'cache-control': 'no-cache',
          'access-control-allow-origin': '*',
          'x-content-type-options': 'nosniff',
        });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
    },
    ...['/v1/releases', '/v1/releases/'].map((path): Route => ({
      path,
      methods: READ,
      access: 'read',
      handle: async (_req, res) => sendJson(res, 200, { models: await service.store.modelIds() }),
    })),
    {
      path: '/v1/releases/{model}',
      methods: READ,
      access: 'read',
      handle: async (_req, res, { url, params }) => {
        const windowMs = url.searchParams.has('windowMs') ? Number(url.searchParams.get('windowMs')) : undefined;
        if (windowMs !== undefined && !(Number.isSafeInteger(windowMs) && windowMs > 0))
          throw new HttpError(400, 'INVALID_INPUT', 'windowMs must be a positive integer');
        sendJson(res, 200, await service.status(params.model, windowMs));
      },
    },
    {
      path: RELEASE,
      methods: ['POST'],
      access: 'write',
      bodyType: 'application/octet-stream',
      maxBodyBytes: upload.maxBytes,
      bodyTimeoutMs: upload.timeoutMs,
      handle: async (req, res, { url, params: { model, version } }) => {
        if (await service.store.get(model, version)) throw new HttpError(409, 'VERSION_EXISTS', `${model} ${version} is already published`);
        const query = publishParams(url);
        const bytes = await readBodyBytes(req, upload);
        // Checking the upload takes as long as its sandbox limits allow, longer than the idle-socket timeout.
        const restoreIdleTimeout = holdIdleTimeout(req);
        let published;
        try {
          published = await service.publish({ modelId: model, version, bytes, ...query });
        } finally {
          restoreIdleTimeout();
        }
        const { optimizedError, ...release } = published;
        // The pre-optimised copy (null when none could be derived; optimizedError says why) beside the release.
        sendJson(res, 201, { release, optimized: release.entry.optimized ?? null, ...(optimizedError ? { optimizedError } : {}) });
      },
    },
    {
      path: `${RELEASE}/model.onnx`,
      methods: READ,
      access: 'public',
      handle: async (req, res, { params: { model, version } }) => {
        const release = await service.store.get(model, version);
        if (!release) throw new HttpError(404, 'NOT_FOUND', `${model} ${version} is not published`);
        const bytes = await service.store.readBlob(release.sha256);
        if (!bytes)
          throw new HttpError(404, 'NOT_FOUND', `${model} ${version} is a seeded registry model: its bytes are at ${release.entry.url}`);
        sendReleaseBytes(req, res, bytes, release.sha256);
      },
    },
    {
      path: `${RELEASE}/model.extended.onnx`,
      methods: READ,
      access: 'public',
      handle: async (req, res, { params: { model, version } }) => {
        const release = await service.store.get(model, version);
        if (!release) throw new HttpError(404, 'NOT_FOUND', `${model} ${version} is not published`);
        const copy = release.entry.optimized as { url?: unknown; sha256?: unknown } | undefined;
        const bytes =
          copy?.url === releaseOptimizedUrl(model, version) && typeof copy.sha256 === 'string'
            ? await service.store.readBlob(copy.sha256)
            : undefined;
        if (!bytes || typeof copy?.sha256 !== 'string')
          throw new HttpError(404, 'NOT_FOUND', `${model} ${version} has no pre-optimised copy on this server`);
        sendReleaseBytes(req, res, bytes, copy.sha256);
      },
    },
    {
      path: `${RELEASE}/rollout`,
      methods: ['PUT'],
      access: 'write',
      bodyType: 'application/json',
      handle: async (req, res, { params: { model, version } }) => {
        const { percent } = await readJsonBody(req, { emptyIsObject: true });
        if (typeof percent !== 'number' || !Number.isInteger(percent) || percent < 0 || percent > 100)
          throw new HttpError(400, 'INVALID_INPUT', 'expected {"percent": <integer 0–100>}', { path: '$.percent' });
        sendJson(res, 200, { release: await service.setPercent(model, version, percent) });
      },
    },
    ...(['promote', 'rollback'] as const).map((leaf): Route => ({
      path: `${RELEASE}/${leaf}`,
      methods: ['POST'],
      access: 'write',
      bodyType: 'application/json',
      handle: async (req, res, { params: { model, version } }) => {
        const { reason } = await readJsonBody(req, { emptyIsObject: true });
        if (reason !== undefined && (typeof reason !== 'string' || reason.length > 1000))
          throw new HttpError(400, 'INVALID_INPUT', 'reason must be a string of at most 1000 characters', { path: '$.reason' });
        const release =
          leaf === 'promote'
            ? await service.promote(model, version, 'operator', reason ?? 'promoted by the operator')
            : await service.rollback(model, version, 'operator', reason ?? 'rolled back by the operator');
        sendJson(res, 200, { release });
      },
    })),
  ];
}

/** `?notes=&metrics=&breaking=` of a publish. */
function publishParams(url: URL): { notes?: string; metrics?: unknown; breaking: boolean } {
  const notes = url.searchParams.get('notes') ?? undefined;
  if (notes !== undefined && notes.length > 4000) throw new HttpError(400, 'INVALID_INPUT', 'notes: at most 4000 characters');
  const metricsText = url.searchParams.get('metrics');
  let metrics: unknown;
  if (metricsText !== null) {
    if (metricsText.length > 8000) throw new HttpError(400, 'INVALID_INPUT', 'metrics: at most 8000 characters of JSON');
    try {
      metrics = JSON.parse(metricsText);
    } catch {
      throw new HttpError(400, 'INVALID_INPUT', 'metrics is not JSON');
    }
    if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics))
      throw new HttpError(400, 'INVALID_INPUT', 'metrics must be a JSON object');
  }
  const breaking = url.searchParams.get('breaking');
  if (breaking !== null && breaking !== '1' && breaking !== 'true' && breaking !== '0' && breaking !== 'false')
    throw new HttpError(400, 'INVALID_INPUT', 'breaking must be 1 or 0');
  return { notes, metrics, breaking: breaking === '1' || breaking === 'true' };
}
