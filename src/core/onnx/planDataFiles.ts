import { OnDeviceError } from '../OnDeviceError';
import type { ModelSource } from '../protocol';
import { dataFileUrl, normalizeLocation } from './dataLocation';
import { externalDataFiles } from './externalDataFiles';
import { readModelTensors, type ModelTensorBytes } from './readExternalData';

/** One external data file to fetch: where, what to verify, and how much of it the model's tensors use. */
export interface DataFilePlan {
  /** The location as onnxruntime looks it up (`./` dropped). */
  location: string;
  url: string;
  sha256?: string;
  /** The size the registry or release lists; undefined for a model loaded by URL. */
  bytes?: number;
  /** The end of the furthest tensor in the file: it must hold at least this much. */
  extentBytes: number;
}

export interface ModelSetPlan {
  tensors: ModelTensorBytes;
  files: DataFilePlan[];
  /** The ONNX file plus every data file (listed sizes, else the tensors' extents: a lower bound). */
  totalBytes: number;
}

/**
 * The external data files a model's (verified) ONNX bytes name, and where each comes from: the source's list for a
 * registry or released model (a file it does not list is refused: every byte must be verifiable), else beside the
 * model's URL or where `source.dataFiles` says. Throws INVALID_INPUT for a bad location, overlapping tensors, an
 * unlisted file, or a `dataFiles` entry the model does not name (a typo would otherwise go unnoticed);
 * MODEL_LOAD_FAILED for bytes that are not ONNX.
 *
 * @example
 * const { files } = planDataFiles(source, onnxBytes) // [{ location: 'model.onnx_data', url, sha256, bytes, extentBytes }]
 */
export function planDataFiles(source: ModelSource, model: Uint8Array): ModelSetPlan {
  const label = source.id;
  const tensors = readModelTensors(model, label);
  const named = externalDataFiles(tensors.external, label);
  // A registry or release entry is the whole set; a versioned source without a list names no data file.
  const listed = source.externalData ?? (source.version !== undefined ? [] : undefined);
  const listedByLocation = new Map(listed?.map((d) => [normalizeLocation(d.location), d]));
  const overrides = new Map(Object.entries(source.dataFiles ?? {}).map(([location, o]) => [normalizeLocation(location), o]));
  for (const location of overrides.keys()) {
    if (!named.some((f) => f.location === location)) {
      throw new OnDeviceError(
        'INVALID_INPUT',
        `dataFiles names "${location}", which ${label} does not use (it names ${named.length ? named.map((f) => `"${f.location}"`).join(', ') : 'no external data file'})`,
        { location, named: named.map((f) => f.location) },
      );
    }
  }
  const files = named.map(({ location, extentBytes }): DataFilePlan => {
    if (listed) {
      const entry = listedByLocation.get(location);
      if (!entry) {
        throw new OnDeviceError(
          'INVALID_INPUT',
          `${label} names external data file "${location}", which its registry entry does not list (it lists ${listed.length ? listed.map((d) => `"${d.location}"`).join(', ') : 'none'})`,
          { location },
        );
      }
      return { location, url: entry.url, sha256: entry.sha256, bytes: entry.bytes, extentBytes };
    }
    const override = overrides.get(location);
    return { location, url: override?.url ?? dataFileUrl(location, source.url), sha256: override?.sha256, extentBytes };
  });
  const totalBytes = model.byteLength + files.reduce((sum, f) => sum + (f.bytes ?? f.extentBytes), 0);
  return { tensors, files, totalBytes };
}
