import * as ort from 'onnxruntime-node';
import type { ElementType } from '../../src/core/protocol';
import type { TensorSpec } from '../../src/core/schema/TensorSpec';
import { isElementType } from '../../src/core/elementTypes';
import { normalizeDim } from '../../src/core/normalizeDim';

/** Inputs and outputs as onnxruntime-node reads them (symbolic dims keep the model's own names; unnamed ones are '?'). */
export async function describeModel(model: string | Uint8Array): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  // Two calls because create's overloads do not accept the union.
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    return { inputs: session.inputMetadata.map(toSpec), outputs: session.outputMetadata.map(toSpec) };
  } finally {
    await session.release();
  }
}

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new Error(`${meta.name} is not a tensor (sequences and maps are not supported)`);
  if (!isElementType(meta.type)) throw new Error(`${meta.name} has element type ${meta.type}, which the runtime does not support`);
  return { name: meta.name, type: meta.type as ElementType, shape: meta.shape.map(normalizeDim) };
}
