// Child side of the /v2 pool (SessionPool): runs only inside a sandbox child. Sessions stay loaded between calls
// (warm), keyed by id@version; the answer is encoded here, under the response size limit, not on the server's thread.
import { loadModel } from '../node/loadModel';
import { loadOrt } from '../node/loadOrt';
import type { Model } from '../node/Model';
import type { ModelEntry } from '../registry/ModelEntry';
import { reportRunning } from '../sandbox/reportRunning';
import { encodeInferResponse } from './encodeInferResponse';
import type { EncodedPart, InferArgs, InferResult } from './inferProtocol';
import { splitRows } from './splitRows';
import { HttpError } from '../http/HttpError';
import type { V2ErrorCode } from './v2Error';

// Loaded before the first request arrives: onnxruntime-node's import is most of a child's start.
await loadOrt();

const models = new Map<string, Promise<Model>>();

function modelFor(entry: ModelEntry, modelsDir: string, threads: number): Promise<Model> {
  // With the sha256: a released version and a registry entry may share an id and version string.
  const key = `${entry.id}@${entry.version}#${entry.sha256}`;
  let model = models.get(key);
  if (!model) {
    model = loadModel(entry, { modelsDir, threads });
    models.set(key, model);
    model.catch(() => models.delete(key)); // a failed load is retried by the next request
  }
  return model;
}

export const tasks = {
  /** Load `entry` on first use (verified against its sha256), run it, and encode each part's answer. */
  async infer(a: InferArgs): Promise<InferResult> {
    const model = await modelFor(a.entry, a.modelsDir, a.threads);
    reportRunning(); // loading (its own limit) is over: the run timeout counts from here
    const t0 = performance.now();
    const outputs = await model.run(a.feeds);
    const ms = performance.now() - t0;
    const rows = a.parts.map((p) => p.rows ?? 0);
    const split =
      a.parts.length === 1
        ? [outputs]
        : splitRows(
            outputs,
            rows,
            rows.reduce((n, r) => n + r, 0),
          );
    const parts = a.parts.map((part, i): EncodedPart => {
      try {
        const head = { modelName: a.entry.id, modelVersion: a.entry.version, id: part.id };
        return { ok: true, ...encodeInferResponse(head, split[i], part.outputs, a.maxResponseBytes) };
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        return { ok: false, status: error.status, code: error.code as V2ErrorCode, message: error.message, details: error.details };
      }
    });
    return { ms, parts };
  },
};
