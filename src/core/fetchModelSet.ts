import { fetchFile, fetchModel, type FetchedModel, type FetchModelOptions } from './fetchModel';
import { normalizeLocation } from './onnx/dataLocation';
import { planDataFiles, type DataFilePlan, type ModelSetPlan } from './onnx/planDataFiles';
import type { ModelSource, Progress } from './protocol';
import { SetProgress } from './SetProgress';

/** One external data file, fetched (or read from the store) and verified. */
export interface LoadedDataFile {
  location: string;
  bytes: Uint8Array<ArrayBuffer>;
  sha256: string;
  fromCache: boolean;
}

/** A model's ONNX file and every external data file it names, verified. */
export interface FetchedModelSet extends FetchedModel {
  dataFiles: LoadedDataFile[];
  /** What the ONNX file names: the tensors' byte ranges are checked against the files before a session is made. */
  plan: ModelSetPlan;
}

export interface FetchModelSetOptions extends Omit<FetchModelOptions, 'onProgress'> {
  onProgress?: (p: Progress) => void;
  /** Called once the ONNX file is verified and read, before any data file is fetched: throw to refuse the set (limits). */
  checkSet?: (plan: ModelSetPlan) => void;
}

/**
 * A model from the network, every file of it: the ONNX file, then each external data file it names (from the
 * source's list, beside its URL, or where `source.dataFiles` says), each verified. Progress covers the whole set.
 *
 * @example
 * const { bytes, dataFiles } = await fetchModelSet(source, { onProgress, checkSet: assertFitsHeap })
 */
export async function fetchModelSet(source: ModelSource, options: FetchModelSetOptions = {}): Promise<FetchedModelSet> {
  const progress = setProgressFor(source, options.onProgress);
  const model = await fetchModel(source, { ...options, onProgress: progress.reporter('') });
  const plan = planDataFiles(source, model.bytes);
  options.checkSet?.(plan);
  for (const f of plan.files) progress.expect(f.location, f.bytes);
  // All at once, as onnxruntime-web's own loader does; the first failure stops the others.
  const controller = new AbortController();
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    const dataFiles = await Promise.all(
      plan.files.map(async (f): Promise<LoadedDataFile> => {
        try {
          const report = progress.reporter(f.location, f.location);
          const fetched = await fetchFile(dataFileTarget(source, f), { ...options, signal: controller.signal, onProgress: report });
          return { location: f.location, bytes: fetched.bytes, sha256: fetched.sha256, fromCache: false };
        } catch (error) {
          stop();
          throw error;
        }
      }),
    );
    return { ...model, dataFiles, plan };
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/** Progress over a source's set: the ONNX file (key '') and the data files its registry entry lists. */
export function setProgressFor(source: ModelSource, onProgress: ((p: Progress) => void) | undefined): SetProgress {
  return new SetProgress(onProgress, [
    { key: '', bytes: source.bytes },
    ...(source.externalData ?? []).map((d) => ({ key: normalizeLocation(d.location), bytes: d.bytes })),
  ]);
}

/** A data file as a fetch target: named `<id> data file "<location>"` in messages, `{ location }` in details. */
export function dataFileTarget(source: ModelSource, file: DataFilePlan) {
  return {
    url: file.url,
    label: `${source.id} data file "${file.location}"`,
    sha256: file.sha256,
    bytes: file.bytes,
    kind: 'data' as const,
    details: { location: file.location },
  };
}
