import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds, ModelSource } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { newId } from '../telemetry/newId';
import { decodeV2Response } from './decodeV2Response';
import { encodeV2Request } from './encodeV2Request';
import { errorFromV2Response } from './errorFromV2Response';
import { fromV2Datatype } from '../core/v2Datatypes';

export interface ServerSessionOptions {
  /** The server's base URL (ends with `/`). */
  server: string;
  signal?: AbortSignal;
  /** Telemetry ids sent as `X-OnDevice-Install-Id` / `X-OnDevice-Session-Id`, so the server's records join the page's. */
  ids?: () => { installId: string; sessionId?: string };
  /** One request (metadata or infer) that takes longer fails with TIMEOUT. Default 60 000 ms, the server's own run limit. */
  requestTimeoutMs?: number;
}

interface V2Tensor {
  name?: unknown;
  datatype?: unknown;
  shape?: unknown;
  parameters?: { dim_names?: unknown };
}

/** How often a busy server (503 QUEUE_FULL, 429 RATE_LIMITED) is retried after its Retry-After, and the longest wait. */
const BUSY_RETRIES = 2;
const MAX_RETRY_AFTER_MS = 5_000;

/**
 * One model on an Open Inference Protocol (KServe v2) server: what `Model` runs through when the model
 * does not run on the device. Stateless like the server, so calls may overlap.
 */
export class ServerSession {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly inferUrl: string;
  /** Milliseconds the metadata request took (the server side of "loading"). */
  readonly openMs: number;
  private readonly options: ServerSessionOptions;

  private constructor(
    inferUrl: string,
    specs: { inputs: TensorSpec[]; outputs: TensorSpec[] },
    openMs: number,
    options: ServerSessionOptions,
  ) {
    this.inferUrl = inferUrl;
    this.inputs = specs.inputs;
    this.outputs = specs.outputs;
    this.openMs = openMs;
    this.options = options;
  }

  /** Ask the server for the model's metadata: it must know the model (and version), or the load fails here, not at the first run. */
  static async open(source: ModelSource, options: ServerSessionOptions): Promise<ServerSession> {
    const started = performance.now();
    const path = `v2/models/${encodeURIComponent(source.id)}${source.version ? `/versions/${encodeURIComponent(source.version)}` : ''}`;
    const metadataUrl = new URL(path, options.server).href;
    const answer = await request(metadataUrl, { method: 'GET' }, options);
    const text = new TextDecoder().decode(answer.bytes);
    let metadata: { inputs?: unknown; outputs?: unknown };
    try {
      metadata = JSON.parse(text) as typeof metadata;
    } catch {
      throw new OnDeviceError(
        'MODEL_FETCH_FAILED',
        `${metadataUrl} is not a v2 model metadata answer (not JSON: is ${options.server} an ondevice server?)`,
        {
          url: metadataUrl,
        },
      );
    }
    const inputs = source.inputs ?? specsFrom(metadata.inputs, metadataUrl);
    const outputs = source.outputs ?? specsFrom(metadata.outputs, metadataUrl);
    return new ServerSession(`${metadataUrl}/infer`, { inputs, outputs }, performance.now() - started, options);
  }

  /** Run on the server; outputs are the same tensors the device returns. `signal` rejects with ABORTED and cancels the request. */
  async run(feeds: Feeds, options: { predictionId?: string; signal?: AbortSignal } = {}): Promise<{ outputs: Feeds; ms: number }> {
    const { signal } = options;
    const started = performance.now();
    const { body, headerBytes } = encodeV2Request(feeds, options.predictionId ?? newId());
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(headerBytes),
    };
    const ids = this.options.ids?.();
    if (ids) {
      headers['x-ondevice-install-id'] = ids.installId;
      if (ids.sessionId) headers['x-ondevice-session-id'] = ids.sessionId;
    }
    const answer = await request(this.inferUrl, { method: 'POST', body, headers }, { ...this.options, signal });
    const outputs = decodeV2Response(answer.bytes, answer.headers.get('inference-header-content-length'), this.inferUrl);
    return { outputs, ms: performance.now() - started };
  }
}

/** fetch with a time bound, the caller's signal, retries on a busy server, and every failure as an OnDeviceError. */
async function request(url: string, init: RequestInit, options: ServerSessionOptions): Promise<{ bytes: Uint8Array; headers: Headers }> {
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new OnDeviceError('ABORTED', 'The call was aborted', { url });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await fetch(url, { ...init, signal: controller.signal, cache: 'no-store' });
        // The body is read within the same bound as the headers.
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (error) {
        throw fetchFailure(error, url, timedOut, timeoutMs, options.signal);
      }
      if (response.ok) return { bytes, headers: response.headers };
      const error = errorFromV2Response(response.status, new TextDecoder().decode(bytes), url);
      const retryAfterMs = Number(response.headers.get('retry-after')) * 1000;
      if ((response.status === 503 || response.status === 429) && attempt < BUSY_RETRIES && retryAfterMs >= 0) {
        await abortableDelay(Math.min(retryAfterMs || 1000, MAX_RETRY_AFTER_MS), options.signal, url);
        continue;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

function fetchFailure(error: unknown, url: string, timedOut: boolean, timeoutMs: number, signal: AbortSignal | undefined): OnDeviceError {
  if (signal?.aborted) return new OnDeviceError('ABORTED', 'The call was aborted', { url });
  if (timedOut)
    return new OnDeviceError('TIMEOUT', `The inference server did not answer ${url} within ${timeoutMs} ms`, { url, timeoutMs });
  return new OnDeviceError(
    'MODEL_FETCH_FAILED',
    `Could not reach the inference server at ${url}: ${(error as Error)?.message ?? String(error)}`,
    {
      url,
    },
  );
}

function abortableDelay(ms: number, signal: AbortSignal | undefined, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new OnDeviceError('ABORTED', 'The call was aborted', { url }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `$metadata_tensor`s as our specs: a -1 dim is its name from `parameters.dim_names`, or `'?'`. */
function specsFrom(value: unknown, url: string): TensorSpec[] {
  if (!Array.isArray(value)) throw new OnDeviceError('MODEL_FETCH_FAILED', `${url} has no inputs/outputs in its metadata`, { url });
  return (value as V2Tensor[]).map((t) => {
    const type = fromV2Datatype(t.datatype);
    if (typeof t.name !== 'string' || !type || !Array.isArray(t.shape)) {
      throw new OnDeviceError('MODEL_FETCH_FAILED', `${url}: a tensor in the metadata is malformed (${JSON.stringify(t).slice(0, 200)})`, {
        url,
      });
    }
    const names = Array.isArray(t.parameters?.dim_names) ? (t.parameters.dim_names as unknown[]) : [];
    const shape = (t.shape as unknown[]).map((d, i) =>
      typeof d === 'number' && d >= 0 ? d : typeof names[i] === 'string' && names[i] !== '' ? (names[i] as string) : '?',
    );
    return { name: t.name, type, shape };
  });
}
