// One worker thread of the SessionPool: onnxruntime-node sessions through the Node API, one run at a time.
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';
import { transferablesOf } from '../core/transferablesOf';
import { loadModel } from '../node/loadModel';
import type { Model } from '../node/Model';
import type { ModelEntry } from '../registry/ModelEntry';
import type { SessionWorkerApi, SessionWorkerData, WorkerRunResult } from './poolProtocol';

const { modelsDir, threads } = workerData as SessionWorkerData;
const models = new Map<string, Promise<Model>>();

function modelFor(entry: ModelEntry): Promise<Model> {
  const key = `${entry.id}@${entry.version}`;
  let model = models.get(key);
  if (!model) {
    model = loadModel(entry, { modelsDir, threads });
    models.set(key, model);
    model.catch(() => models.delete(key)); // a failed load is retried by the next request
  }
  return model;
}

const api: SessionWorkerApi = {
  async run(entry: ModelEntry, feeds: Feeds): Promise<WorkerRunResult> {
    try {
      const model = await modelFor(entry);
      const t0 = performance.now();
      const outputs = await model.run(feeds);
      const result: WorkerRunResult = { ok: true, outputs, ms: performance.now() - t0 };
      return Comlink.transfer(result, transferablesOf(outputs));
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
