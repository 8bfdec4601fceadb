import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { OnDeviceError } from '../core/OnDeviceError';
import { assertTensorsFitFiles, externalDataFiles } from '../core/onnx/externalDataFiles';
import { readModelTensors } from '../core/onnx/readExternalData';

export interface LocalFile {
  path: string;
  sha256: string;
  bytes: number;
}

/** A model on disk as the files it is made of: the ONNX file and the external data files beside it. */
export interface LocalModelSet {
  model: LocalFile;
  /** Each at the location the model names it, found relative to the model's folder. */
  externalData: Array<LocalFile & { location: string }>;
}

/**
 * Find the external data files an ONNX file names, beside it by their locations, and hash every file of the set
 * (read in pieces, so a 2 GB shard costs no memory): a location that is absolute, has `..` or `\`, or tensors
 * that overlap are INVALID_INPUT; a file that is not there is MODEL_FETCH_FAILED naming it; a tensor past the end
 * of its file is MODEL_LOAD_FAILED naming both.
 *
 * @example
 * const set = await readLocalModelSet('export/model.onnx') // externalData: [{ location: 'model.onnx_data', path, sha256, bytes }]
 */
export async function readLocalModelSet(file: string): Promise<LocalModelSet> {
  const onnx = await readFile(file).catch((e: Error) => {
    throw new OnDeviceError('INVALID_INPUT', `cannot read ${file}: ${e.message}`);
  });
  const label = path.basename(file);
  const references = readModelTensors(onnx, label).external;
  const named = externalDataFiles(references, label);
  const sizes = new Map<string, number>();
  const found: Array<{ location: string; path: string; bytes: number }> = [];
  for (const { location } of named) {
    const at = path.join(path.dirname(file), location);
    const info = await stat(at).catch(() => undefined);
    if (!info?.isFile())
      throw new OnDeviceError('MODEL_FETCH_FAILED', `${label} names external data file "${location}", which is not at ${at}`, {
        location,
        file: at,
      });
    sizes.set(location, info.size);
    found.push({ location, path: at, bytes: info.size });
  }
  assertTensorsFitFiles(references, sizes, label);
  return {
    model: { path: file, bytes: onnx.byteLength, sha256: createHash('sha256').update(onnx).digest('hex') },
    externalData: await Promise.all(found.map(async (f) => ({ ...f, sha256: await sha256OfFile(f.path) }))),
  };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(piece as Buffer);
  return hash.digest('hex');
}
