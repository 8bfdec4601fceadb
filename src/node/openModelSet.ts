import { link, copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fetchModelSet } from '../core/fetchModelSet';
import { OnDeviceError } from '../core/OnDeviceError';
import { assertTensorsFitFiles } from '../core/onnx/externalDataFiles';
import { planDataFiles } from '../core/onnx/planDataFiles';
import type { DataFileOverride, ModelSource } from '../core/protocol';
import { hashFile } from './hashFile';
import { readModelBytes } from './readModelBytes';
import type { NodeModelSource } from './resolveNodeSource';

/** What onnxruntime-node creates a session from: the ONNX bytes (single-file model) or a path beside its data files. */
export interface OpenedModelSet {
  bytes?: Uint8Array;
  path?: string;
  /** The ONNX file plus every data file. */
  totalBytes: number;
  /** Removes a scratch folder made for the session (call once the session exists). */
  close(): Promise<void>;
}

/**
 * A model's files, verified, ready for onnxruntime-node. A single-file model is its bytes. A multi-file one is
 * created from a path, because onnxruntime-node reads external data itself from the model's folder (its
 * `externalData` option is WASM-only): every data file the model names is checked first — listed by the registry
 * entry (sha256 and size), or beside the model file (`dataFiles` may pin hashes) — and a missing file is
 * MODEL_FETCH_FAILED, a wrong hash INTEGRITY_MISMATCH, a bad location INVALID_INPUT, a range past a file's end
 * MODEL_LOAD_FAILED, each naming the file. Where the files are not already laid out by location beside the model
 * (registry files named apart from their locations, a URL), a scratch folder of links (or copies) is made.
 */
export async function openModelSet(
  source: NodeModelSource,
  options: { signal?: AbortSignal; dataFiles?: Record<string, DataFileOverride> } = {},
): Promise<OpenedModelSet> {
  const none = async () => undefined;
  if (source.url) {
    const set = await fetchModelSet({ ...asModelSource(source), dataFiles: options.dataFiles }, { signal: options.signal });
    const totalBytes = set.bytes.byteLength + set.dataFiles.reduce((sum, f) => sum + f.bytes.byteLength, 0);
    if (set.dataFiles.length === 0) return { bytes: set.bytes, totalBytes, close: none };
    assertTensorsFitFiles(set.plan.tensors.external, new Map(set.dataFiles.map((f) => [f.location, f.bytes.byteLength])), source.id);
    const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-set-'));
    await writeFile(path.join(dir, 'model.onnx'), set.bytes);
    for (const f of set.dataFiles) {
      await mkdir(path.dirname(path.join(dir, f.location)), { recursive: true });
      await writeFile(path.join(dir, f.location), f.bytes);
    }
    return { path: path.join(dir, 'model.onnx'), totalBytes, close: () => rm(dir, { recursive: true, force: true }) };
  }
  const file = source.file!;
  const bytes = await readModelBytes(source, options.signal);
  const plan = planDataFiles({ ...asModelSource(source), dataFiles: options.dataFiles }, bytes);
  if (plan.files.length === 0) return { bytes, totalBytes: bytes.byteLength, close: none };
  const sizes = new Map<string, number>();
  const paths = new Map<string, string>();
  for (const f of plan.files) {
    const where = fileURLToPath(f.url);
    const details = { file: where, location: f.location };
    const size = await stat(where).then(
      (s) => (s.isFile() ? s.size : undefined),
      () => undefined,
    );
    if (size === undefined) {
      throw new OnDeviceError('MODEL_FETCH_FAILED', `${source.id}: external data file "${f.location}" is missing (${where})`, details);
    }
    if (f.bytes !== undefined && size !== f.bytes) {
      throw new OnDeviceError(
        'MODEL_FETCH_FAILED',
        `${source.id}: external data file "${f.location}" holds ${size} bytes, the registry says ${f.bytes}`,
        details,
      );
    }
    if (f.sha256) {
      const { sha256 } = await hashFile(where, options.signal);
      if (sha256 !== f.sha256) {
        throw new OnDeviceError(
          'INTEGRITY_MISMATCH',
          `${source.id} data file "${f.location}": sha256 ${sha256} does not match the expected ${f.sha256}`,
          {
            ...details,
            expected: f.sha256,
            actual: sha256,
          },
        );
      }
    }
    sizes.set(f.location, size);
    paths.set(f.location, where);
  }
  assertTensorsFitFiles(plan.tensors.external, sizes, source.id);
  const folder = path.dirname(file);
  const laidOut = [...paths].every(([location, where]) => path.resolve(folder, location) === where);
  const totalBytes = bytes.byteLength + [...sizes.values()].reduce((a, b) => a + b, 0);
  if (laidOut) return { path: file, totalBytes, close: none };
  // onnxruntime-node finds data files by location beside the model: lay them out so, as links to the verified files.
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-set-'));
  try {
    await writeFile(path.join(dir, 'model.onnx'), bytes);
    for (const [location, where] of paths) {
      const to = path.join(dir, location);
      await mkdir(path.dirname(to), { recursive: true });
      // A hard link costs nothing; across file systems, a copy.
      await link(where, to).catch(() => copyFile(where, to));
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path: path.join(dir, 'model.onnx'), totalBytes, close: () => rm(dir, { recursive: true, force: true }) };
}

/** The shared planner's view of a Node source: its data files as file: URLs (a registry entry's list, or beside the file). */
function asModelSource(source: NodeModelSource): ModelSource {
  const url = source.url ?? pathToFileURL(source.file!).href;
  return {
    url,
    id: source.id,
    version: source.version,
    sha256: source.sha256,
    ...(source.externalData
      ? { externalData: source.externalData.map((d) => ({ ...d, url: pathToFileURL(path.join(source.modelsDir!, d.file)).href })) }
      : {}),
  };
}
