import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalizeLocation } from '../core/onnx/dataLocation';
import { HttpError } from '../http/HttpError';
import type { ReleaseFile, ReleaseStore } from './ReleaseStore';
import { startReleaseFile } from './releaseFileHeaders';
import { sendObject } from './sendObject';
import type { ReleaseFileCache } from './ReleaseFileCache';

/**
 * Serve one file of a published version — its ONNX file (`model`), a data file by location (`data`) or its
 * pre-optimised copy (`optimized`) — streamed with Range and immutable caching from this server's disk copy when it
 * has one, else from the database (sendObject). A
 * version published before files were stored in chunks is served from its one stored value.
 */
export async function sendReleaseFile(
  req: IncomingMessage,
  res: ServerResponse,
  store: ReleaseStore,
  files: ReleaseFileCache,
  at: { modelId: string; version: string; role: ReleaseFile['role']; location?: string },
): Promise<void> {
  const { modelId, version, role } = at;
  const release = await store.get(modelId, version);
  if (!release) throw new HttpError(404, 'NOT_FOUND', `${modelId} ${version} is not published`);
  const location = role === 'data' ? normalizeLocation(at.location ?? '') : '';
  const file = (await store.files(modelId, version)).find((f) => f.role === role && f.location === location);
  const object = file && (await store.objects.object(file.sha256));
  if (object) return sendObject(req, res, store.objects, object, await files.pathIfPresent(object));
  const legacy = role === 'model' ? release.sha256 : role === 'optimized' ? legacyCopySha256(release.entry) : undefined;
  const bytes = legacy === undefined ? undefined : await store.readBlob(legacy);
  if (bytes && legacy) {
    const range = startReleaseFile(req, res, { sha256: legacy, bytes: bytes.byteLength });
    if (range) res.end(req.method === 'HEAD' ? undefined : bytes.subarray(range.start, range.end + 1));
    return;
  }
  if (role === 'data')
    throw new HttpError(404, 'NOT_FOUND', `${modelId} ${version} has no external data file ${JSON.stringify(location)}`, {
      details: { location },
    });
  if (role === 'optimized') throw new HttpError(404, 'NOT_FOUND', `${modelId} ${version} has no pre-optimised copy on this server`);
  throw new HttpError(404, 'NOT_FOUND', `${modelId} ${version} is a seeded registry model: its bytes are at ${release.entry.url}`);
}

function legacyCopySha256(entry: Record<string, unknown>): string | undefined {
  const copy = entry.optimized as { url?: unknown; sha256?: unknown } | undefined;
  return typeof copy?.url === 'string' && copy.url.startsWith('/v1/releases/') && typeof copy.sha256 === 'string' ? copy.sha256 : undefined;
}
