import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/HttpError';
import { holdIdleTimeout } from '../http/holdIdleTimeout';
import { discardBody } from '../http/readBodyBytes';
import { parseJsonObject, readJsonBody } from '../http/readJsonBody';
import type { Route } from '../http/Route';
import { sendJson } from '../http/sendJson';
import * as v from 'valibot';
import { TrainableSpecSchema, type TrainableSpec } from '../registry/ModelEntry';
import { bodyWithDeadline } from './bodyWithDeadline';
import type { PublishRequest } from './PublishRequest';
import type { ReleaseFileCache } from './ReleaseFileCache';
import { startReleaseFile } from './releaseFileHeaders';
import { INSTALL_ID, MODEL_ID, VERSION } from './releaseIds';
import type { ReleaseFile } from './ReleaseStore';
import type { ReleaseService } from './ReleaseService';
import { sendReleaseFile } from './sendReleaseFile';

const READ = ['GET', 'HEAD'] as const;
const RELEASE = '/v1/releases/{model}/{version}';

/** The release control plane owns the manifest, uploads and everything under /v1/releases (an unknown path there is its 404). */
export function releasesOwn(pathname: string): boolean {
  return (
    pathname === '/v1/manifest' ||
    pathname === '/v1/releases' ||
    pathname.startsWith('/v1/releases/') ||
    pathname.startsWith('/v1/uploads/')
  );
}

/** Checks of the `{model}` and `{version}` segments, answered 400 before anything else. */
export const RELEASE_PARAMS = {
  model: (id: string) => (MODEL_ID.test(id) ? undefined : `model id ${JSON.stringify(id)} must match ${MODEL_ID}`),
  version: (v: string) => (VERSION.test(v) ? undefined : `version ${JSON.stringify(v)} must match ${VERSION}`),
  sha256: (h: string) =>
    /^[0-9a-f]{64}$/.test(h) ? undefined : `expected the sha256 of the file in 64 lower-case hex digits, got ${JSON.stringify(h)}`,
};

/**
 * The endpoints: the per-install manifest and the files of a version (public), the model list and a model's status
 * (read), uploads, publishing, rollout, promote and rollback (write).
 */
export function releaseRoutes(service: ReleaseService, files: ReleaseFileCache, upload: { maxBytes: number; timeoutMs: number }): Route[] {
  const serve =
    (role: ReleaseFile['role']) =>
    (req: IncomingMessage, res: ServerResponse, { params: { model, version }, rest }: { params: Record<string, string>; rest: string }) =>
      sendReleaseFile(req, res, service.store, files, {
        modelId: model,
        version,
        role,
        location: role === 'data' ? locationOf(rest) : undefined,
      });
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
      path: '/v1/uploads/{sha256}',
      methods: ['PUT'],
      access: 'write',
      bodyType: 'application/octet-stream',
      maxBodyBytes: upload.maxBytes,
      bodyTimeoutMs: upload.timeoutMs,
      handle: async (req, res, { params: { sha256 } }) => {
        const written = await receive(req, res, () => service.receiveFile(bodyWithDeadline(req, upload), sha256));
        sendJson(res, written.existed ? 200 : 201, { sha256: written.sha256, bytes: written.bytes, existed: written.existed });
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
        const file = await receive(req, res, () => service.receiveFile(bodyWithDeadline(req, upload)));
        sendPublished(
          res,
          await whileChecking(req, () =>
            service.publishFiles({ modelId: model, version, model: { sha256: file.sha256, bytes: file.bytes }, ...query }),
          ),
        );
      },
    },
    {
      // A trainable version's features variant (federated fine-tuning): the clients compute features with it.
      path: `${RELEASE}/model.features.onnx`,
      methods: READ,
      access: 'public',
      handle: async (req, res, context) => {
        const { model, version } = context.params;
        if ((await service.store.files(model, version)).some((f) => f.role === 'features')) return serve('features')(req, res, context);
        // A seeded registry version's variant is derived when the server starts and kept in memory.
        const found = await service.trainableOf(model, version);
        const bytes = await found?.variantBytes();
        if (!found || !bytes)
          throw new HttpError(404, 'NOT_FOUND', `${model} ${version} has no features variant on this server (not trainable)`);
        const range = startReleaseFile(req, res, { sha256: found.trainable.variant.sha256, bytes: bytes.byteLength });
        if (range) res.end(req.method === 'HEAD' ? undefined : bytes.subarray(range.start, range.end + 1));
      },
    },
    {
      path: `${RELEASE}/files`,
      methods: ['POST'],
      access: 'write',
      bodyType: 'application/json',
      handle: async (req, res, { params: { model, version } }) => {
        const body = (await readJsonBody(req, { limits: { maxBytes: 1024 * 1024, timeoutMs: 30_000 } })) as PublishRequest;
        sendPublished(res, await whileChecking(req, () => service.publishFiles({ ...body, modelId: model, version })));
      },
    },
    { path: `${RELEASE}/files/`, prefix: true, methods: READ, access: 'public', handle: serve('data') },
    { path: `${RELEASE}/model.onnx`, methods: READ, access: 'public', handle: serve('model') },
    { path: `${RELEASE}/model.extended.onnx`, methods: READ, access: 'public', handle: serve('optimized') },
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

/**
 * 201 with the release, its pre-optimised copy and its features variant (null when none was derived; `optimizedError`
 * and `trainableError` say why) beside it.
 */
function sendPublished(res: ServerResponse, published: Awaited<ReturnType<ReleaseService['publishFiles']>>): void {
  const { optimizedError, trainableError, ...release } = published;
  sendJson(res, 201, {
    release,
    optimized: release.entry.optimized ?? null,
    trainable: release.entry.trainable ?? null,
    ...(optimizedError ? { optimizedError } : {}),
    ...(trainableError ? { trainableError } : {}),
  });
}

/** Checking a publish takes as long as its sandbox limits allow (minutes for a large set), longer than the idle-socket timeout. */
async function whileChecking<T>(req: IncomingMessage, work: () => Promise<T>): Promise<T> {
  const restoreIdleTimeout = holdIdleTimeout(req);
  try {
    return await work();
  } finally {
    restoreIdleTimeout();
  }
}

/** What an upload refused part-way may still send, read and thrown away so that the client reads the answer. */
const REFUSED_UPLOAD_DISCARD_BYTES = 64 * 1024 * 1024;

/**
 * Stream an upload somewhere; when it is refused part-way (too large, a wrong sha256, a deadline), the rest of the
 * body is read and thrown away up to 64 MiB more (within 30 s), so a client that was just over the limit reads the
 * answer instead of a connection reset; one sending gigabytes more is reset there.
 */
async function receive<T>(req: IncomingMessage, res: ServerResponse, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!req.complete && error instanceof HttpError) {
      discardBody(req, { capBytes: REFUSED_UPLOAD_DISCARD_BYTES, timeoutMs: 30_000 });
      throw error;
    }
    throw error;
  }
}

/** A data file's location from the path after `files/`: each segment percent-decoded (`weights/a%20b.bin`). */
function locationOf(rest: string): string {
  try {
    return rest.split('/').map(decodeURIComponent).join('/');
  } catch {
    throw new HttpError(400, 'INVALID_INPUT', `the location in the path is not percent-encoded correctly: ${JSON.stringify(rest)}`);
  }
}

/** `?notes=&metrics=&breaking=&trainable=` of a publish. */
function publishParams(url: URL): {
  notes?: string;
  metrics?: Record<string, unknown>;
  breaking: boolean;
  trainable?: TrainableSpec | null;
} {
  const notes = url.searchParams.get('notes') ?? undefined;
  if (notes !== undefined && notes.length > 4000) throw new HttpError(400, 'INVALID_INPUT', 'notes: at most 4000 characters');
  const metricsText = url.searchParams.get('metrics');
  let metrics: Record<string, unknown> | undefined;
  if (metricsText !== null) {
    if (metricsText.length > 8000) throw new HttpError(400, 'INVALID_INPUT', 'metrics: at most 8000 characters of JSON');
    metrics = parseJsonObject(metricsText, 'metrics');
  }
  const breaking = url.searchParams.get('breaking');
  if (breaking !== null && breaking !== '1' && breaking !== 'true' && breaking !== '0' && breaking !== 'false')
    throw new HttpError(400, 'INVALID_INPUT', 'breaking must be 1 or 0');
  // The version's trainable head: {"features","weight","bias"} as JSON, or none (default: the stable version's).
  const trainableText = url.searchParams.get('trainable');
  let trainable: TrainableSpec | null | undefined;
  if (trainableText === 'none') trainable = null;
  else if (trainableText !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trainableText);
    } catch {
      throw new HttpError(400, 'INVALID_INPUT', 'trainable must be {"features","weight","bias"} as JSON, or none');
    }
    const checked = v.safeParse(TrainableSpecSchema, parsed);
    if (!checked.success) throw new HttpError(400, 'INVALID_INPUT', `trainable: ${checked.issues[0].message}`);
    trainable = checked.output;
  }
  return { notes, metrics, breaking: breaking === '1' || breaking === 'true', ...(trainable !== undefined ? { trainable } : {}) };
}
