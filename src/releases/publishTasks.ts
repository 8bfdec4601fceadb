// Child side: the checks a publish runs on the uploaded files, only ever inside a sandbox child (the server's
// thread never parses or loads a model someone uploaded; inspectModelSet starts it). The files are read from an assembled folder on disk
// (ReleaseFileCache): the ONNX file as model.onnx, each data file at its location beside it.
import { readFile } from 'node:fs/promises';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { OnDeviceError } from '../core/OnDeviceError';
import { normalizeLocation } from '../core/onnx/dataLocation';
import { assertTensorsFitFiles, externalDataFiles } from '../core/onnx/externalDataFiles';
import { readModelTensors } from '../core/onnx/readExternalData';
import { loadOrt } from '../node/loadOrt';
import { sessionSpecs } from '../node/sessionSpecs';

export interface InspectArgs {
  /** Path of the assembled ONNX file. */
  onnx: string;
  /** The data files the publish lists, beside it at their locations. */
  dataFiles: Array<{ location: string; bytes: number }>;
}

// Loaded before the server's call arrives: onnxruntime-node's import is most of a child's start.
await loadOrt();

export const tasks = {
  /**
   * Check the set as one model and read its signature: the locations the model names (INVALID_INPUT when one is
   * absolute, has `..` or `\`, or two tensors overlap in one file) are exactly the listed files (INVALID_INPUT
   * naming a missing or an extra one), every tensor lies inside its file (MODEL_LOAD_FAILED naming the file),
   * then onnxruntime-node loads it from disk (MODEL_LOAD_FAILED when it does not).
   */
  async inspect(a: InspectArgs): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
    const references = readModelTensors(await readFile(a.onnx), 'the uploaded ONNX file').external;
    const named = externalDataFiles(references, 'the uploaded model');
    const listed = new Map(a.dataFiles.map((f) => [normalizeLocation(f.location), f.bytes]));
    for (const file of named)
      if (!listed.has(file.location))
        throw new OnDeviceError(
          'INVALID_INPUT',
          `the model names external data file "${file.location}", which the publish does not include (send every file its tensors name)`,
          { location: file.location },
        );
    for (const location of listed.keys())
      if (!named.some((f) => f.location === location))
        throw new OnDeviceError('INVALID_INPUT', `"${location}" is not an external data file of the model (no tensor names it)`, {
          location,
        });
    assertTensorsFitFiles(references, listed, 'the uploaded model');
    const ort = await loadOrt();
    let session;
    try {
      session = await ort.InferenceSession.create(a.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    } catch (error) {
      throw new OnDeviceError('MODEL_LOAD_FAILED', `onnxruntime could not load the uploaded bytes: ${(error as Error).message}`);
    }
    try {
      return sessionSpecs(session);
    } finally {
      await session.release();
    }
  },
};
