import { availableParallelism } from 'node:os';
import { OnDeviceError } from '../core/OnDeviceError';
import { defaultModelsDir } from './defaultModelsDir';
import { loadOrt } from './loadOrt';
import { Model } from './Model';
import { openModelSet } from './openModelSet';
import type { DataFileOverride } from '../core/protocol';
import { resolveNodeSource, type NodeModelReference } from './resolveNodeSource';
import { sessionSpecs } from './sessionSpecs';

export interface NodeLoadOptions {
  /** Folder holding `registry.json` and the model files, for registry ids. Default `$ONDEVICE_MODELS_DIR` or `public/models`. */
  modelsDir?: string;
  /** Expected sha256 of a URL or file (registry entries carry their own). */
  sha256?: string;
  /**
   * For a file or URL whose weights are in external data files: per location, the expected sha256 (and, for a URL,
   * the file's URL). Files the model names but this does not list are read beside the model unverified by hash
   * (onnxruntime-node reads them itself); their locations and ranges are checked all the same.
   */
  dataFiles?: Record<string, DataFileOverride>;
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
  const set = await openModelSet(resolved, { signal: options.signal, dataFiles: options.dataFiles });
  const t1 = performance.now();
  let session;
  try {
    if (options.signal?.aborted) throw new OnDeviceError('ABORTED', `Loading ${resolved.id} was aborted`);
    const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1 };
    // From a path, onnxruntime-node reads the external data files beside it (already verified by openModelSet).
    session = set.path
      ? await ort.InferenceSession.create(set.path, sessionOptions)
      : await ort.InferenceSession.create(set.bytes!, sessionOptions);
  } catch (error) {
    if (error instanceof OnDeviceError) throw error;
    throw new OnDeviceError('MODEL_LOAD_FAILED', `onnxruntime could not load ${resolved.id}: ${(error as Error).message}`, {
      modelId: resolved.id,
    });
  } finally {
    await set.close();
  }
  const { inputs, outputs } = sessionSpecs(session, resolved);
  return new Model(ort, session, resolved.id, resolved.version, inputs, outputs, {
    bytes: set.totalBytes,
    threads,
    timings: { fetchMs: t1 - t0, sessionMs: performance.now() - t1 },
  });
}
