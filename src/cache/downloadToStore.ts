import { OnDeviceError } from '../core/OnDeviceError';
import { looksLikeModel } from '../core/looksLikeModel';
import type { ModelSource, Progress } from '../core/protocol';
import { readChunks } from '../core/readChunks';
import { sha256Hex } from '../core/sha256';
import { assertFitsDeviceMemory } from './assertFitsDeviceMemory';
import { ByteBuffer } from './ByteBuffer';
import { CHUNK_BYTES } from './chunkBytes';
import { deleteEntry } from './deleteEntry';
import type { ModelManifest } from './ModelManifest';
import type { ModelDb } from './openModelDb';
import { readStoredChunks } from './readStoredChunks';
import { reserveSpace } from './reserveSpace';
import { storeKeyOf } from './storeKeyOf';

const PROGRESS_STEP_BYTES = 65_536;

export interface DownloadOptions {
  onProgress?: (p: Progress) => void;
  budgetBytes?: number;
  /** Continue from stored chunks (false after an integrity failure: start over). */
  resume: boolean;
  /** A fresh 200 response already in hand (a revalidation that found new content). */
  response?: Response;
  /** Stops the download (ABORTED); the chunks stored so far stay for a resume. */
  signal?: AbortSignal;
  /** A download that sends nothing for this long is abandoned (TIMEOUT; its stored chunks stay for a resume). Default 30 s. */
  stallTimeoutMs?: number;
}

export interface DownloadResult {
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  /** Why the bytes were not stored (the load itself succeeded). */
  storeWarning?: OnDeviceError;
}

/**
 * Stream a model from the network into the store, one chunk at a time as bytes arrive, resuming a
 * partial download with `Range: bytes=<stored>-`. Content is checked before the first chunk is written
 * and the whole file is hashed before it is marked complete or returned; anything wrong purges the entry.
 */
export async function downloadToStore(db: ModelDb, source: ModelSource, options: DownloadOptions): Promise<DownloadResult> {
  const key = storeKeyOf(source);
  const fail = async (
    message: string,
    details: Record<string, unknown> = {},
    code: 'MODEL_FETCH_FAILED' | 'INTEGRITY_MISMATCH' = 'MODEL_FETCH_FAILED',
  ) => {
    await deleteEntry(db, key).catch(() => undefined);
    return new OnDeviceError(code, message, { url: source.url, ...details });
  };

  let manifest = await db.get('manifests', key);
  if (
    manifest &&
    (manifest.complete || !options.resume || options.response || manifest.url !== source.url || manifest.chunkBytes !== CHUNK_BYTES)
  ) {
    await deleteEntry(db, key);
    manifest = undefined;
  }
  const buffer = new ByteBuffer(source.bytes ?? manifest?.bytes ?? 0);
  if (manifest && manifest.storedBytes > 0) {
    const stored = await readStoredChunks(db, manifest);
    if (typeof stored === 'string') {
      await deleteEntry(db, key);
      manifest = undefined;
    } else {
      buffer.append(stored);
    }
  }

  let response = options.response ?? (await request(source, manifest, options.signal));
  if (manifest && buffer.length > 0 && !isResumeOf(response, buffer.length)) {
    // The file changed (If-Range failed) or the server ignores ranges: start over cleanly.
    await deleteEntry(db, key);
    manifest = undefined;
    buffer.reset();
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      response = await request(source, undefined, options.signal);
    }
  }
  const resumeFrom = buffer.length;
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${source.url}: HTTP ${response.status}`, {
      url: source.url,
      status: response.status,
    });
  }
  const contentType = response.headers.get('content-type');
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) {
    await response.body?.cancel().catch(() => undefined);
    throw await fail(`${source.url} is not a model: the server answered with ${contentType} (an HTML fallback page?)`);
  }
  const declaredBytes = declaredLength(response, resumeFrom);
  if (source.bytes !== undefined && declaredBytes !== undefined && declaredBytes !== source.bytes) {
    await response.body?.cancel().catch(() => undefined);
    throw await fail(`${source.url}: the server announces ${declaredBytes} bytes, the registry says ${source.bytes}`);
  }
  const totalBytes = source.bytes ?? declaredBytes ?? 0;
  assertFitsDeviceMemory(totalBytes);

  let storeWarning: OnDeviceError | undefined;
  let storing = true;
  if (totalBytes > 0) {
    storeWarning = await reserveSpace(db, key, totalBytes - resumeFrom, options.budgetBytes);
    if (storeWarning) {
      storing = false;
      await deleteEntry(db, key);
    }
  }
  const entry: ModelManifest = manifest ?? {
    key,
    id: source.id,
    version: source.version,
    url: source.url,
    bytes: totalBytes,
    storedBytes: 0,
    chunkBytes: CHUNK_BYTES,
    chunkCount: 0,
    complete: false,
    lastUsed: Date.now(),
    source: { ...source },
  };
  entry.bytes = totalBytes;
  entry.etag = response.headers.get('etag') ?? entry.etag;
  entry.lastModified = response.headers.get('last-modified') ?? entry.lastModified;

  const stopStoring = async (error: unknown) => {
    storing = false;
    const name = (error as DOMException)?.name;
    storeWarning =
      name === 'QuotaExceededError'
        ? new OnDeviceError('QUOTA_EXCEEDED', `Not storing ${source.id}: the browser's storage quota ran out`, { url: source.url })
        : new OnDeviceError('NOT_SUPPORTED', `Not storing ${source.id}: ${(error as Error)?.message ?? error}`, { url: source.url });
    await deleteEntry(db, key).catch(() => undefined);
  };

  const report = (p: Progress) => options.onProgress?.(p);
  let lastReport = buffer.length;
  if (!response.body) throw await fail(`${source.url}: the response has no body`);
  try {
    // readChunks cancels the body when this loop stops early (a failed check below, a stall, an abort).
    for await (const value of readChunks(response.body, {
      url: source.url,
      signal: options.signal,
      stallTimeoutMs: options.stallTimeoutMs,
    })) {
      if (buffer.length === 0 && value.byteLength > 0) {
        const check = looksLikeModel(value.subarray(0, 64), contentType);
        if (!check.ok) throw await fail(`${source.url} is not a model: ${check.reason}`);
      }
      buffer.append(value);
      if (source.bytes !== undefined && buffer.length > source.bytes) {
        throw await fail(`${source.url}: received more than the ${source.bytes} bytes the registry announces`);
      }
      while (storing && buffer.length - entry.storedBytes >= CHUNK_BYTES) {
        await writeChunk(db, entry, buffer.view(entry.storedBytes, entry.storedBytes + CHUNK_BYTES)).catch(stopStoring);
      }
      if (buffer.length - lastReport >= PROGRESS_STEP_BYTES) {
        lastReport = buffer.length;
        report({ loaded: buffer.length, total: Math.max(totalBytes, buffer.length), lengthComputable: totalBytes > 0, fromCache: false });
      }
    }
  } catch (error) {
    if (error instanceof OnDeviceError) throw error;
    // A dropped connection: the chunks written so far stay, and the next load resumes after them.
    throw new OnDeviceError(
      'MODEL_FETCH_FAILED',
      `The download of ${source.url} was interrupted after ${buffer.length} bytes: ${(error as Error).message}`,
      {
        url: source.url,
        receivedBytes: buffer.length,
        storedBytes: storing ? entry.storedBytes : 0,
        reason: 'NETWORK',
      },
    );
  }

  if (buffer.length === 0) throw await fail(`${source.url}: the response was empty`);
  if (declaredBytes !== undefined && buffer.length !== declaredBytes) {
    throw await fail(`${source.url}: received ${buffer.length} bytes, the server announced ${declaredBytes}`);
  }
  if (source.bytes !== undefined && buffer.length !== source.bytes) {
    throw await fail(`${source.url}: received ${buffer.length} bytes, the registry says ${source.bytes}`);
  }
  const bytes = buffer.bytes();
  const sha256 = await sha256Hex(bytes);
  if (source.sha256 && sha256 !== source.sha256) {
    throw await fail(
      `${source.id}: sha256 ${sha256} does not match the expected ${source.sha256}`,
      { expected: source.sha256, actual: sha256 },
      'INTEGRITY_MISMATCH',
    );
  }
  report({ loaded: bytes.byteLength, total: bytes.byteLength, lengthComputable: true, fromCache: false });
  if (storing) {
    entry.bytes = bytes.byteLength;
    entry.sha256 = sha256;
    entry.complete = true;
    const rest = buffer.view(entry.storedBytes, buffer.length);
    await writeChunk(db, entry, rest).catch(stopStoring);
  }
  return { bytes, sha256, storeWarning };
}

function request(source: ModelSource, manifest: ModelManifest | undefined, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {};
  if (manifest && manifest.storedBytes > 0) {
    headers.Range = `bytes=${manifest.storedBytes}-`;
    // If the file changed since the first part was stored, the server sends all of it (200) instead.
    const validator = manifest.etag && !manifest.etag.startsWith('W/') ? manifest.etag : manifest.lastModified;
    if (validator) headers['If-Range'] = validator;
  }
  return fetch(source.url, { credentials: 'same-origin', headers, cache: 'no-store', signal }).catch((error: Error) => {
    if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${source.url} was aborted`, { url: source.url });
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${source.url}: ${error.message}`, {
      url: source.url,
      reason: 'NETWORK',
    });
  });
}

function isResumeOf(response: Response, fromBytes: number): boolean {
  if (response.status !== 206) return false;
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  return !!m && Number(m[1]) === fromBytes;
}

/** The full file size the response announces (Content-Range total, or offset + Content-Length). */
function declaredLength(response: Response, offset: number): number | undefined {
  const range = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
  if (response.status === 206 && range) return Number(range[1]);
  const length = response.headers.get('content-length');
  // Content-Length counts encoded bytes; a compressed response says nothing about the file size.
  if (length === null || response.headers.get('content-encoding')) return undefined;
  return offset + Number(length);
}

/** Store one chunk and the manifest that counts it, atomically. */
async function writeChunk(db: ModelDb, entry: ModelManifest, data: Uint8Array<ArrayBuffer>): Promise<void> {
  const index = entry.chunkCount;
  const next: ModelManifest = { ...entry, storedBytes: entry.storedBytes + data.byteLength, chunkCount: index + 1, lastUsed: Date.now() };
  const tx = db.transaction(['manifests', 'chunks'], 'readwrite');
  await Promise.all([
    data.byteLength > 0
      ? tx.objectStore('chunks').put({ key: entry.key, index, blob: new Blob([data]), bytes: data.byteLength })
      : undefined,
    tx.objectStore('manifests').put(data.byteLength > 0 ? next : { ...entry, lastUsed: next.lastUsed }),
    tx.done,
  ]);
  if (data.byteLength > 0) Object.assign(entry, next);
}
