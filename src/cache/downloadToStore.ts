import { ByteBuffer } from '../core/ByteBuffer';
import { describe, notHtml, type FileTarget } from '../core/fetchModel';
import { OnDeviceError } from '../core/OnDeviceError';
import { looksLikeModel } from '../core/looksLikeModel';
import type { ModelSource } from '../core/protocol';
import { readChunks } from '../core/readChunks';
import type { FileProgress } from '../core/SetProgress';
import { sha256Hex } from '../core/sha256';
import { assertFitsDeviceMemory } from './assertFitsDeviceMemory';
import { CHUNK_BYTES } from './chunkBytes';
import { deleteDataFile, deleteEntry } from './deleteEntry';
import type { ModelManifest, StoredFile } from './ModelManifest';
import type { ModelDb } from './openModelDb';
import { readStoredChunks } from './readStoredChunks';
import { reserveSpace } from './reserveSpace';
import { storeKeyOf } from './storeKeyOf';

const PROGRESS_STEP_BYTES = 65_536;

export interface DownloadOptions {
  onProgress?: (p: FileProgress) => void;
  budgetBytes?: number;
  /** Continue from stored chunks (false after an integrity failure: start over). */
  resume: boolean;
  /** A fresh 200 response already in hand (a revalidation that found new content). */
  response?: Response;
  /** Stops the download (ABORTED); the chunks stored so far stay for a resume. */
  signal?: AbortSignal;
  /** A download that sends nothing for this long is abandoned (TIMEOUT; its stored chunks stay for a resume). Default 30 s. */
  stallTimeoutMs?: number;
  /** Do not store (the set this file belongs to cannot be stored): download and verify only. */
  noStore?: boolean;
}

export interface DownloadResult {
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  /** Why the bytes were not stored (the load itself succeeded). */
  storeWarning?: OnDeviceError;
}

/** One file to download into the store: a model's ONNX file (a `manifests` record) or one of its data files (`files`). */
export interface StoreTarget extends FileTarget {
  key: string;
  /** The stored model this file belongs to: never evicted to make room for it. */
  modelKey: string;
  /** Set for the ONNX file: what its manifest records. */
  model?: Pick<ModelManifest, 'id' | 'version' | 'source'>;
}

/** The ONNX file of `source` as a download target. */
export function modelTarget(source: ModelSource): StoreTarget {
  const key = storeKeyOf(source);
  return {
    url: source.url,
    label: source.id,
    sha256: source.sha256,
    bytes: source.bytes,
    kind: 'model',
    key,
    modelKey: key,
    model: { id: source.id, version: source.version, source: { ...source } },
  };
}

/**
 * Stream a file from the network into the store, one chunk at a time as bytes arrive, resuming a partial
 * download with `Range: bytes=<stored>-`. Content is checked before the first chunk is written and the whole
 * file is hashed before it is marked complete or returned; anything wrong purges the record.
 */
export async function downloadToStore(db: ModelDb, target: StoreTarget | ModelSource, options: DownloadOptions): Promise<DownloadResult> {
  const t = 'kind' in target ? target : modelTarget(target);
  const { key, url } = t;
  const storeName = t.model ? 'manifests' : 'files';
  const purge = () => (t.model ? deleteEntry(db, key) : deleteDataFile(db, key));
  const writes = new ChunkWriter();
  const fail = async (
    message: string,
    details: Record<string, unknown> = {},
    code: 'MODEL_FETCH_FAILED' | 'INTEGRITY_MISMATCH' = 'MODEL_FETCH_FAILED',
  ) => {
    await writes.settled();
    await purge().catch(() => undefined);
    return new OnDeviceError(code, message, { url, ...t.details, ...details });
  };

  let record: StoredFile | undefined = options.noStore ? undefined : await db.get(storeName, key);
  if (record && (record.complete || !options.resume || options.response || record.url !== url || record.chunkBytes !== CHUNK_BYTES)) {
    await purge();
    record = undefined;
  }
  const buffer = new ByteBuffer(t.bytes ?? record?.bytes ?? 0);
  if (record && record.storedBytes > 0) {
    const stored = await readStoredChunks(db, record);
    if (typeof stored === 'string') {
      await purge();
      record = undefined;
    } else {
      buffer.append(stored);
    }
  }

  let response = options.response ?? (await request(url, record, options.signal));
  if (record && buffer.length > 0 && !isResumeOf(response, buffer.length)) {
    // The file changed (If-Range failed) or the server ignores ranges: start over cleanly.
    await purge();
    record = undefined;
    buffer.reset();
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      response = await request(url, undefined, options.signal);
    }
  }
  const resumeFrom = buffer.length;
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${describe(t)}: HTTP ${response.status}`, {
      url,
      ...t.details,
      status: response.status,
    });
  }
  const contentType = response.headers.get('content-type');
  const html = notHtml(response);
  if (!html.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw await fail(`${describe(t)} is not a model: ${html.reason}`);
  }
  const declaredBytes = declaredLength(response, resumeFrom);
  if (t.bytes !== undefined && declaredBytes !== undefined && declaredBytes !== t.bytes) {
    await response.body?.cancel().catch(() => undefined);
    throw await fail(`${describe(t)}: the server announces ${declaredBytes} bytes, the registry says ${t.bytes}`);
  }
  const totalBytes = t.bytes ?? declaredBytes ?? 0;
  if (t.model) assertFitsDeviceMemory(totalBytes);

  let storeWarning: OnDeviceError | undefined;
  let storing = !options.noStore;
  if (storing && totalBytes > 0) {
    storeWarning = await reserveSpace(db, new Set([t.modelKey, key]), totalBytes - resumeFrom, options.budgetBytes);
    if (storeWarning) {
      storing = false;
      await purge();
    }
  }
  const entry: StoredFile = record ?? {
    key,
    url,
    bytes: totalBytes,
    storedBytes: 0,
    chunkBytes: CHUNK_BYTES,
    chunkCount: 0,
    complete: false,
    lastUsed: Date.now(),
    ...t.model,
  };
  entry.bytes = totalBytes;
  entry.etag = response.headers.get('etag') ?? entry.etag;
  entry.lastModified = response.headers.get('last-modified') ?? entry.lastModified;

  const stopStoring = async (error: unknown) => {
    storing = false;
    const name = (error as DOMException)?.name;
    storeWarning =
      name === 'QuotaExceededError'
        ? new OnDeviceError('QUOTA_EXCEEDED', `Not storing ${t.label}: the browser's storage quota ran out`, { url, ...t.details })
        : new OnDeviceError('NOT_SUPPORTED', `Not storing ${t.label}: ${(error as Error)?.message ?? error}`, { url, ...t.details });
    await purge().catch(() => undefined);
  };

  const report = (p: FileProgress) => options.onProgress?.(p);
  let lastReport = buffer.length;
  let queued = entry.storedBytes;
  if (!response.body) throw await fail(`${describe(t)}: the response has no body`);
  try {
    // readChunks cancels the body when this loop stops early (a failed check below, a stall, an abort).
    for await (const value of readChunks(response.body, { url, signal: options.signal, stallTimeoutMs: options.stallTimeoutMs })) {
      if (t.kind === 'model' && buffer.length === 0 && value.byteLength > 0) {
        const check = looksLikeModel(value.subarray(0, 64), contentType);
        if (!check.ok) throw await fail(`${describe(t)} is not a model: ${check.reason}`);
      }
      buffer.append(value);
      if (t.bytes !== undefined && buffer.length > t.bytes) {
        throw await fail(`${describe(t)}: received more than the ${t.bytes} bytes the registry announces`);
      }
      // Chunks are written in order behind the download, never holding it up by more than a couple of chunks.
      while (storing && buffer.length - queued >= CHUNK_BYTES) {
        const chunk = buffer.view(queued, queued + CHUNK_BYTES);
        queued += CHUNK_BYTES;
        await writes.add(() => (storing ? writeChunk(db, storeName, entry, chunk).catch(stopStoring) : Promise.resolve()));
      }
      if (buffer.length - lastReport >= PROGRESS_STEP_BYTES) {
        lastReport = buffer.length;
        report({ loaded: buffer.length, total: Math.max(totalBytes, buffer.length), lengthComputable: totalBytes > 0, fromCache: false });
      }
    }
  } catch (error) {
    // The chunks already queued are the resume point: let them land first.
    await writes.settled();
    if (error instanceof OnDeviceError) throw error;
    // A dropped connection: the chunks written so far stay, and the next load resumes after them.
    throw new OnDeviceError(
      'MODEL_FETCH_FAILED',
      `The download of ${describe(t)} was interrupted after ${buffer.length} bytes: ${(error as Error).message}`,
      { url, ...t.details, receivedBytes: buffer.length, storedBytes: storing ? entry.storedBytes : 0, reason: 'NETWORK' },
    );
  }

  if (buffer.length === 0) throw await fail(`${describe(t)}: the response was empty`);
  if (declaredBytes !== undefined && buffer.length !== declaredBytes) {
    throw await fail(`${describe(t)}: received ${buffer.length} bytes, the server announced ${declaredBytes}`);
  }
  if (t.bytes !== undefined && buffer.length !== t.bytes) {
    throw await fail(`${describe(t)}: received ${buffer.length} bytes, the registry says ${t.bytes}`);
  }
  const bytes = buffer.bytes();
  const sha256 = await sha256Hex(bytes);
  if (t.sha256 && sha256 !== t.sha256) {
    throw await fail(
      `${t.label}: sha256 ${sha256} does not match the expected ${t.sha256}`,
      { expected: t.sha256, actual: sha256 },
      'INTEGRITY_MISMATCH',
    );
  }
  report({ loaded: bytes.byteLength, total: bytes.byteLength, lengthComputable: true, fromCache: false });
  await writes.settled();
  if (storing) {
    entry.bytes = bytes.byteLength;
    entry.sha256 = sha256;
    entry.complete = true;
    const rest = buffer.view(entry.storedBytes, buffer.length);
    await writeChunk(db, storeName, entry, rest).catch(stopStoring);
  }
  return { bytes, sha256, storeWarning };
}

function request(url: string, record: StoredFile | undefined, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = {};
  if (record && record.storedBytes > 0) {
    headers.Range = `bytes=${record.storedBytes}-`;
    // If the file changed since the first part was stored, the server sends all of it (200) instead.
    const validator = record.etag && !record.etag.startsWith('W/') ? record.etag : record.lastModified;
    if (validator) headers['If-Range'] = validator;
  }
  return fetch(url, { credentials: 'same-origin', headers, cache: 'no-store', signal }).catch((error: Error) => {
    if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${url} was aborted`, { url });
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${url}: ${error.message}`, { url, reason: 'NETWORK' });
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

/** Chunk writes run one after another behind the download; `add` waits only when more than two are queued. */
class ChunkWriter {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  async add(write: () => Promise<void>): Promise<void> {
    this.pending++;
    this.tail = this.tail.then(write).finally(() => this.pending--);
    if (this.pending > 2) await this.tail;
  }

  settled(): Promise<void> {
    return this.tail.catch(() => undefined);
  }
}

/** Store one chunk and the record that counts it, atomically. */
async function writeChunk(db: ModelDb, storeName: 'manifests' | 'files', entry: StoredFile, data: Uint8Array<ArrayBuffer>): Promise<void> {
  const index = entry.chunkCount;
  const next: StoredFile = { ...entry, storedBytes: entry.storedBytes + data.byteLength, chunkCount: index + 1, lastUsed: Date.now() };
  const tx = db.transaction([storeName, 'chunks'], 'readwrite');
  await Promise.all([
    data.byteLength > 0
      ? tx.objectStore('chunks').put({ key: entry.key, index, blob: new Blob([data]), bytes: data.byteLength })
      : undefined,
    // A manifest record is a ModelManifest: `entry` was made from the target's model fields.
    tx.objectStore(storeName).put((data.byteLength > 0 ? next : { ...entry, lastUsed: next.lastUsed }) as ModelManifest),
    tx.done,
  ]);
  if (data.byteLength > 0) Object.assign(entry, next);
}
