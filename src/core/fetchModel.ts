import { ByteBuffer } from './ByteBuffer';
import { OnDeviceError } from './OnDeviceError';
import { looksLikeModel } from './looksLikeModel';
import type { ModelSource } from './protocol';
import { readChunks } from './readChunks';
import type { FileProgress } from './SetProgress';
import { sha256Hex } from './sha256';

export interface FetchedModel {
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  fromCache: boolean;
}

export interface FetchModelOptions {
  onProgress?: (p: FileProgress) => void;
  /** Stops the download (ABORTED), wherever it is: waiting for headers or reading the body. */
  signal?: AbortSignal;
  /** Longest wait for the next bytes (TIMEOUT); default STALL_TIMEOUT_MS (30 s). */
  stallTimeoutMs?: number;
}

/** One file of a model to fetch and verify: the ONNX file itself, or one of its external data files. */
export interface FileTarget {
  url: string;
  /** Named in messages: the model id, or `<id> data file "<location>"`. */
  label: string;
  sha256?: string;
  /** The size the registry lists. */
  bytes?: number;
  /** `model`: the bytes must look like ONNX; `data`: any bytes but an HTML page. */
  kind: 'model' | 'data';
  /** Error details naming the file (`{ location }` for a data file). */
  details?: Record<string, unknown>;
}

const PROGRESS_STEP_BYTES = 65_536;

/** Download model bytes from the network with progress, content checks and sha256 verification. */
export async function fetchModel(source: ModelSource, options: FetchModelOptions = {}): Promise<FetchedModel> {
  return fetchFile({ url: source.url, label: source.id, sha256: source.sha256, bytes: source.bytes, kind: 'model' }, options);
}

/**
 * Download one file of a model with progress, content checks and sha256 verification; the bytes are held once
 * (a buffer of the announced size, filled as they arrive).
 *
 * @example
 * const { bytes } = await fetchFile({ url, label: 'bert data file "model.onnx_data"', sha256, kind: 'data' }, { signal })
 */
export async function fetchFile(target: FileTarget, options: FetchModelOptions = {}): Promise<FetchedModel> {
  const { signal } = options;
  const { url } = target;
  const where = { url, ...target.details };
  if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${url} was aborted`, where);
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin', signal });
  } catch (error) {
    if (signal?.aborted) throw new OnDeviceError('ABORTED', `The download of ${url} was aborted`, where);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${describe(target)}: ${(error as Error).message}`, {
      ...where,
      reason: 'NETWORK',
    });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch ${describe(target)}: HTTP ${response.status}`, {
      ...where,
      status: response.status,
    });
  }
  const bytes = await readBody(response, target, options);
  const check = target.kind === 'model' ? looksLikeModel(bytes.subarray(0, 64), response.headers.get('content-type')) : notHtml(response);
  if (!check.ok) throw new OnDeviceError('MODEL_FETCH_FAILED', `${describe(target)} is not a model: ${check.reason}`, where);
  const sha256 = await sha256Hex(bytes);
  if (target.sha256 && target.sha256 !== sha256) {
    throw new OnDeviceError('INTEGRITY_MISMATCH', `${target.label}: sha256 ${sha256} does not match the expected ${target.sha256}`, {
      ...where,
      expected: target.sha256,
      actual: sha256,
    });
  }
  return { bytes, sha256, fromCache: false };
}

/** `<url>` for the ONNX file, `data file "<location>" of <id> (<url>)` for a data file. */
export function describe(target: FileTarget): string {
  return target.kind === 'data' ? `${target.label} (${target.url})` : target.url;
}

/** A data file may hold any bytes, but never an HTML page (a host's fallback for a missing file). */
export function notHtml(response: Response): { ok: true } | { ok: false; reason: string } {
  const contentType = response.headers.get('content-type');
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) {
    return { ok: false, reason: `the server answered with ${contentType} (an HTML fallback page?)` };
  }
  return { ok: true };
}

async function readBody(
  response: Response,
  target: FileTarget,
  { onProgress, signal, stallTimeoutMs }: FetchModelOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const lengthHeader = response.headers.get('content-length');
  const declared = lengthHeader === null ? undefined : Number(lengthHeader);
  // Content-Length counts encoded bytes: a gzip'd response says nothing about the file's size.
  const encoded = !!response.headers.get('content-encoding');
  const total = target.bytes ?? (encoded ? undefined : declared);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const buffer = new ByteBuffer(total ?? 0);
  let lastReport = 0;
  try {
    for await (const value of readChunks(response.body, { url: target.url, signal, stallTimeoutMs })) {
      buffer.append(value);
      // Progress at most every 64 KiB: it crosses a thread boundary.
      if (onProgress && buffer.length - lastReport >= PROGRESS_STEP_BYTES) {
        lastReport = buffer.length;
        onProgress({
          loaded: buffer.length,
          total: Math.max(total ?? 0, buffer.length),
          lengthComputable: total !== undefined,
          fromCache: false,
        });
      }
    }
  } catch (error) {
    if (error instanceof OnDeviceError) throw error;
    throw new OnDeviceError(
      'MODEL_FETCH_FAILED',
      `The download of ${describe(target)} was interrupted after ${buffer.length} bytes: ${(error as Error).message}`,
      { url: target.url, ...target.details, receivedBytes: buffer.length, reason: 'NETWORK' },
    );
  }
  const loaded = buffer.length;
  if (declared !== undefined && !encoded && loaded !== declared) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${describe(target)}: received ${loaded} bytes, the server announced ${declared}`, {
      url: target.url,
      ...target.details,
      reason: 'NETWORK',
    });
  }
  if (target.bytes !== undefined && loaded !== target.bytes) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${describe(target)}: received ${loaded} bytes, the registry says ${target.bytes}`, {
      url: target.url,
      ...target.details,
    });
  }
  onProgress?.({ loaded, total: loaded, lengthComputable: true, fromCache: false });
  return buffer.bytes();
}
