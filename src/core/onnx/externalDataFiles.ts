import { OnDeviceError } from '../OnDeviceError';
import { normalizeLocation, problemWithLocation } from './dataLocation';
import type { ExternalDataReference } from './readExternalData';

/** One external data file a model names, and how far into it its tensors reach. */
export interface ExternalDataFile {
  /** The location as onnxruntime looks it up (a leading `./` dropped). */
  location: string;
  /** The end of the furthest tensor in it: the file must hold at least this many bytes. */
  extentBytes: number;
  tensors: number;
}

/**
 * The files `references` name, in first-use order, each checked: a location that is absolute, contains `..`
 * or `\` (or NUL, or over 255 bytes), or tensors whose byte ranges overlap in one file, throw INVALID_INPUT
 * naming the file and tensors. `label` names the model in messages.
 *
 * @example
 * externalDataFiles(readModelTensors(bytes).external, 'model.onnx') // [{ location: 'model.onnx_data', extentBytes: 81920, tensors: 4 }]
 */
export function externalDataFiles(references: readonly ExternalDataReference[], label = 'the model'): ExternalDataFile[] {
  const byLocation = new Map<string, ExternalDataReference[]>();
  for (const ref of references) {
    const problem = problemWithLocation(ref.location);
    if (problem) {
      throw new OnDeviceError(
        'INVALID_INPUT',
        `${label}: tensor "${ref.tensor}" names external data file "${ref.location}", which ${problem}`,
        {
          location: ref.location,
          tensor: ref.tensor,
        },
      );
    }
    const location = normalizeLocation(ref.location);
    byLocation.set(location, [...(byLocation.get(location) ?? []), ref]);
  }
  return [...byLocation].map(([location, refs]) => {
    const sorted = refs.map((ref) => ({ ref, end: ref.offset + bytesOf(ref) })).sort((a, b) => a.ref.offset - b.ref.offset);
    for (let i = 1; i < sorted.length; i++) {
      const [before, after] = [sorted[i - 1], sorted[i]];
      if (after.ref.offset < before.end && bytesOf(after.ref) > 0 && bytesOf(before.ref) > 0) {
        throw new OnDeviceError(
          'INVALID_INPUT',
          `${label}: tensors "${before.ref.tensor}" and "${after.ref.tensor}" overlap in external data file "${location}" (bytes ${before.ref.offset}–${before.end} and ${after.ref.offset}–${after.end})`,
          { location, tensors: [before.ref.tensor, after.ref.tensor] },
        );
      }
    }
    return { location, extentBytes: Math.max(0, ...sorted.map((s) => s.end)), tensors: refs.length };
  });
}

/**
 * Check every tensor against the files as they are, before a session is created: a range past the end of its
 * file, or a `length` that is not what the tensor's dims and type need, throws MODEL_LOAD_FAILED naming the
 * file and the tensor. `sizes` maps each (normalized) location to its size in bytes.
 */
export function assertTensorsFitFiles(
  references: readonly ExternalDataReference[],
  sizes: ReadonlyMap<string, number>,
  label = 'the model',
): void {
  for (const ref of references) {
    const location = normalizeLocation(ref.location);
    const size = sizes.get(location);
    const details = { location, tensor: ref.tensor };
    if (ref.length !== undefined && ref.expectedBytes !== undefined && ref.length !== ref.expectedBytes) {
      throw new OnDeviceError(
        'MODEL_LOAD_FAILED',
        `${label}: tensor "${ref.tensor}" in "${location}" says length ${ref.length}, its dims and type need ${ref.expectedBytes} bytes`,
        details,
      );
    }
    if (size === undefined)
      throw new OnDeviceError('MODEL_LOAD_FAILED', `${label}: external data file "${location}" was not provided`, details);
    const end = ref.offset + bytesOf(ref);
    if (end > size) {
      throw new OnDeviceError(
        'MODEL_LOAD_FAILED',
        `${label}: tensor "${ref.tensor}" reaches byte ${end} of external data file "${location}", which holds ${size} bytes`,
        { ...details, offset: ref.offset, end, fileBytes: size },
      );
    }
  }
}

function bytesOf(ref: ExternalDataReference): number {
  return ref.length ?? ref.expectedBytes ?? 0;
}
