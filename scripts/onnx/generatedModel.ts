import type { ModelEntry } from '../../src/registry/ModelEntry';

/** A model this repository writes itself (see scripts/models-generate.ts). */
export interface GeneratedModel {
  /** The registry fields that do not depend on the bytes; sha256, bytes, inputs and outputs are measured. */
  entry: Pick<ModelEntry, 'id' | 'version' | 'file' | 'license' | 'task' | 'description' | 'sample'> & {
    source: { generator: string };
  };
  build(): Uint8Array;
}

/** Shared header of every generated model: IR 8 / opset 17 load in onnxruntime-web 1.30 and onnxruntime-node. */
export const GENERATED_IR_VERSION = 8;
export const GENERATED_OPSET = 17;
export const GENERATED_PRODUCER = { producerName: 'ondevice', producerVersion: 'scripts/onnx' };
