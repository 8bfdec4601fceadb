import type { IncomingMessage, ServerResponse } from 'node:http';
import { holdIdleTimeout } from '../http/holdIdleTimeout';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ModelEntry } from '../registry/ModelEntry';
import { decodeInferRequest } from './decodeInferRequest';
import type { RecordInference } from './ServerInferenceRecord';
import type { Feeds } from '../core/protocol';
import type { PartResult } from './DynamicBatcher';
import type { ResponsePart } from './inferProtocol';
import { sendV2 } from './sendV2';
import { HttpError } from '../http/HttpError';
import { readBodyBytes } from '../http/readBodyBytes';
import { v2Error } from './v2Error';

export interface InferContext {
  /** The pool's run, or the dynamic batcher's: runs the request and encodes its answer in a sandbox child. */
  run: (entry: ModelEntry, feeds: Feeds, part: ResponsePart) => Promise<PartResult>;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  recordInference?: RecordInference;
  serverIds: { installId: string; sessionId: string };
}

/** `POST /v2/models/{id}[/versions/{v}]/infer`: decode, validate, run and encode on the pool, answer, record. */
export async function handleInfer(req: IncomingMessage, res: ServerResponse, entry: ModelEntry, context: InferContext): Promise<void> {
  const body = await readBodyBytes(req, { maxBytes: context.maxBodyBytes, timeoutMs: context.bodyTimeoutMs });
  const header = req.headers['inference-header-content-length'];
  const request = decodeInferRequest(body, Array.isArray(header) ? header[0] : header, entry);
  const inputDims = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, [...t.dims]]));
  // The run has its own time limit, which may be longer than the idle-socket timeout: the client gets its 504.
  const restoreIdleTimeout = holdIdleTimeout(req);
  let result;
  try {
    result = await context.run(entry, request.feeds, { id: request.id, outputs: request.outputs });
  } catch (error) {
    throw asV2Error(error);
  } finally {
    restoreIdleTimeout();
  }
  const { part } = result;
  if (!part.ok) throw v2Error(part.status, part.code, part.message, {}, part.details);
  sendV2(res, 200, part.body, part.headers);
  try {
    context.recordInference?.({
      type: 'inference',
      backend: 'server',
      timestamp: Date.now(),
      installId: headerId(req, 'x-ondevice-install-id') ?? context.serverIds.installId,
      sessionId: headerId(req, 'x-ondevice-session-id') ?? context.serverIds.sessionId,
      modelId: entry.id,
      modelVersion: entry.version,
      ms: result.ms,
      inputDims,
      ...(request.id !== undefined ? { requestId: request.id } : {}),
    });
  } catch (error) {
    console.error(`serve: recordInference failed: ${(error as Error).message}`);
  }
}

function headerId(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

/** A failure of the run as /v2 answers it: onnxruntime's and the sandbox's codes mapped to statuses. */
function asV2Error(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof OnDeviceError) {
    const limit = (keys: string[]) => Object.fromEntries(keys.filter((k) => k in error.details).map((k) => [k, error.details[k]]));
    if (error.code === 'INVALID_INPUT') return v2Error(400, 'INVALID_INPUT', error.message);
    if (error.code === 'TIMEOUT') return v2Error(504, 'TIMEOUT', error.message, {}, { reason: 'TIMEOUT', ...limit(['limitMs']) });
    // Past the sandbox's memory cap (the process was killed), or onnxruntime's own allocation failure.
    if (error.code === 'OUT_OF_MEMORY')
      return v2Error(422, 'INFERENCE_FAILED', error.message, {}, { reason: 'MEMORY', ...limit(['limitBytes', 'rssBytes']) });
    if (error.code === 'WORKER_CRASHED') return v2Error(500, 'WORKER_CRASHED', error.message);
    if (['MODEL_LOAD_FAILED', 'MODEL_FETCH_FAILED', 'INTEGRITY_MISMATCH'].includes(error.code)) {
      return v2Error(500, 'MODEL_LOAD_FAILED', error.message);
    }
    if (error.code === 'DISPOSED') return v2Error(503, 'QUEUE_FULL', error.message, { 'retry-after': '1' });
  }
  return v2Error(500, 'INFERENCE_FAILED', (error as Error)?.message ?? String(error));
}
