import { availableParallelism } from 'node:os';
import { OnDeviceError } from '../core/OnDeviceError';
import { defaultModelsDir } from './defaultModelsDir';
import { loadOrt } from './loadOrt';
import { Model } from './Model';
import { readModelBytes } from './readModelBytes';
import { resolveNodeSource, type NodeModelReference } from './resolveNodeSource';
import { sessionSpecs } from './sessionSpecs';

export interface NodeLoadOptions {
  /** Folder holding `registry.json` and the model files, for registry ids. Default `$ONDEVICE_MODELS_DIR` or `public/models`. */
  modelsDir?: string;
  /** Expected sha256 of a URL or file (registry entries carry their own). */
  sha256?: string;
  /** onnxruntime intra-op threads. Default: half the cores, at most 4 (as in the browser). */
  threads?: number;
  signal?: AbortSignal;
}

/**
 * Load a model into onnxruntime-node: a registry id (`'tiny-mlp'`, `'tiny-mlp@1'`), a registry entry, an
 * http(s) URL or a file path. Bytes are verified (content check, sha256) before onnxruntime sees them.
 *
 * @example
 * import { loadModel } from 'ondevice/node'
 * const model = await loadModel('./my-model.onnx', { threads: 1 })
 */
export async function loadModel(source: NodeModelReference, options: NodeLoadOptions = {}): Promise<Model> {
  const ort = await loadOrt();
  const resolved = await resolveNodeSource(source, { modelsDir: options.modelsDir ?? defaultModelsDir(), sha256: options.sha256 });
  const threads = options.threads ?? Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
  if (!Number.isInteger(threads) || threads < 1)
    throw new OnDeviceError('INVALID_INPUT', `threads must be a positive integer, got ${threads}`);
  const t0 = performance.now();
  const bytes = await readModelBytes(resolved, options.signal);
  const t1 = performance.now();
  if (options.signal?.aborted) throw new OnDeviceError('ABORTED', `Loading ${resolved.id} was aborted`);
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  } catch (error) {
    throw new OnDeviceError('MODEL_LOAD_FAILED', `onnxruntime could not load ${resolved.id}: ${(error as Error).message}`, {
      modelId: resolved.id,
    });
  }
  const { inputs, outputs } = sessionSpecs(session, resolved);
  return new Model(ort, session, resolved.id, resolved.version, inputs, outputs, {
    bytes: bytes.byteLength,
    threads,
    timings: { fetchMs: t1 - t0, sessionMs: performance.now() - t1 },
  });
}
