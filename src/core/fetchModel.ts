import { OnDeviceError } from './OnDeviceError';
import { looksLikeModel } from './looksLikeModel';
import type { ModelSource, Progress } from './protocol';
import { readChunks } from './readChunks';
import { sha256Hex } from './sha256';

export interface FetchedModel {
  bytes: Uint8Array;
  sha256: string;
  fromCache: boolean;
}

export interface FetchModelOptions {
  onProgress?: (p: Progress) => void;
  /** Stops the download (ABORTED), wherever it is: waiting for headers or reading the body. */
  signal?: AbortSignal;
  /** Longest wait for the next bytes (TIMEOUT); default STALL_TIMEOUT_MS (30 s). */
  stallTimeoutMs?: number;
}

/** Download model bytes from the network with progress, content checks and sha256 verification. */
export async function fetchModel(source: ModelSource, options: FetchModelOptions = {}): Promise<FetchedModel> {
  const { signal } = options;
  if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${source.url} was aborted`, { url: source.url });
  let response: Response;
  try {
    response = await fetch(source.url, { credentials: 'same-origin', signal });
  } catch (error) {
    if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${source.url} was aborted`, { url: source.url });
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${source.url}: ${(error as Error).message}`, {
      url: source.url,
      reason: 'NETWORK',
    });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${source.url}: HTTP ${response.status}`, {
      url: source.url,
      status: response.status,
    });
  }
  const bytes = await readBody(response, source, options);
  const check = looksLikeModel(bytes.subarray(0, 64), response.headers.get('content-type'));
  if (!check.ok) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${source.url} is not a model: ${check.reason}`, { url: source.url });
  }
  const sha256 = await sha256Hex(bytes as Uint8Array<ArrayBuffer>);
  if (source.sha256 && source.sha256 !== sha256) {
    throw new OnDeviceError('INTEGRITY_MISMATCH', `${source.id}: sha256 ${sha256} does not match the expected ${source.sha256}`, {
      url: source.url,
      expected: source.sha256,
      actual: sha256,
    });
  }
  return { bytes, sha256, fromCache: false };
}

async function readBody(
  response: Response,
  source: ModelSource,
  { onProgress, signal, stallTimeoutMs }: FetchModelOptions,
): Promise<Uint8Array> {
  const lengthHeader = response.headers.get('content-length');
  const declared = lengthHeader === null ? undefined : Number(lengthHeader);
  // Content-Length counts encoded bytes: a gzip'd response says nothing about the file's size.
  const total = source.bytes ?? (response.headers.get('content-encoding') ? undefined : declared);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  try {
    for await (const value of readChunks(response.body, { url: source.url, signal, stallTimeoutMs })) {
      chunks.push(value);
      loaded += value.byteLength;
      // Progress at most every 64 KiB: it crosses a thread boundary.
      if (onProgress && loaded - lastReport >= 65536) {
        lastReport = loaded;
        onProgress({ loaded, total: Math.max(total ?? 0, loaded), lengthComputable: total !== undefined, fromCache: false });
      }
    }
  } catch (error) {
    if (error instanceof OnDeviceError) throw error;
    throw new OnDeviceError(
      'MODEL_FETCH_FAILED',
      `The download of ${source.url} was interrupted after ${loaded} bytes: ${(error as Error).message}`,
      {
        url: source.url,
        receivedBytes: loaded,
        reason: 'NETWORK',
      },
    );
  }
  if (declared !== undefined && !response.headers.get('content-encoding') && loaded !== declared) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${source.url}: received ${loaded} bytes, the server announced ${declared}`, {
      url: source.url,
      reason: 'NETWORK',
    });
  }
  if (source.bytes !== undefined && loaded !== source.bytes) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${source.url}: received ${loaded} bytes, the registry says ${source.bytes}`, {
      url: source.url,
    });
  }
  onProgress?.({ loaded, total: loaded, lengthComputable: true, fromCache: false });
  const out = new Uint8Array(loaded);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
