import type { IncomingMessage, ServerResponse } from 'node:http';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ModelEntry } from '../registry/ModelEntry';
import { decodeInferRequest } from './decodeInferRequest';
import { encodeInferResponse } from './encodeInferResponse';
import type { RecordInference } from './ServerInferenceRecord';
import type { Feeds } from '../core/protocol';
import { sendV2 } from './sendV2';
import { HttpError } from '../http/HttpError';
import { readBodyBytes } from '../http/readBodyBytes';
import { v2Error } from './v2Error';

export interface InferContext {
  /** The pool's run, or the dynamic batcher's. */
  run: (entry: ModelEntry, feeds: Feeds) => Promise<{ outputs: Feeds; ms: number }>;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  recordInference?: RecordInference;
  serverIds: { installId: string; sessionId: string };
}

/** `POST /v2/models/{id}[/versions/{v}]/infer`: decode, validate, run on the pool, answer, record. */
export async function handleInfer(req: IncomingMessage, res: ServerResponse, entry: ModelEntry, context: InferContext): Promise<void> {
  const body = await readBodyBytes(req, { maxBytes: context.maxBodyBytes, timeoutMs: context.bodyTimeoutMs });
  const header = req.headers['inference-header-content-length'];
  const request = decodeInferRequest(body, Array.isArray(header) ? header[0] : header, entry);
  const inputDims = Object.fromEntries(Object.entries(request.feeds).map(([name, t]) => [name, [...t.dims]]));
  let result;
  try {
    result = await context.run(entry, request.feeds);
  } catch (error) {
    throw asV2Error(error);
  }
  const encoded = encodeInferResponse(
    { modelName: entry.id, modelVersion: entry.version, id: request.id },
    result.outputs,
    request.outputs,
  );
  sendV2(res, 200, encoded.body, encoded.headers);
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

/** A failure of the run as /v2 answers it: onnxruntime's and the pool's codes mapped to statuses. */
function asV2Error(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof OnDeviceError) {
    if (error.code === 'INVALID_INPUT') return v2Error(400, 'INVALID_INPUT', error.message);
    if (error.code === 'TIMEOUT') return v2Error(504, 'TIMEOUT', error.message);
    if (error.code === 'WORKER_CRASHED') return v2Error(500, 'WORKER_CRASHED', error.message);
    if (['MODEL_LOAD_FAILED', 'MODEL_FETCH_FAILED', 'INTEGRITY_MISMATCH'].includes(error.code)) {
      return v2Error(500, 'MODEL_LOAD_FAILED', error.message);
    }
    if (error.code === 'DISPOSED') return v2Error(503, 'QUEUE_FULL', error.message, { 'retry-after': '1' });
  }
  return v2Error(500, 'INFERENCE_FAILED', (error as Error)?.message ?? String(error));
}
