import type { ModelEntry } from '../registry/ModelEntry';
import { toV2Datatype } from '../core/v2Datatypes';

/**
 * The protocol's `$metadata_model_response`. Symbolic dims are -1, as the protocol spells a variable
 * dimension; their names stay in `parameters.dim_names`.
 */
export function modelMetadata(entry: ModelEntry, versions: string[]) {
  const tensors = (specs: ModelEntry['inputs']) =>
    specs.map((s) => ({
      name: s.name,
      datatype: toV2Datatype(s.type),
      shape: s.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
      ...(s.shape.some((d) => typeof d === 'string')
        ? { parameters: { dim_names: s.shape.map((d) => (typeof d === 'string' ? d : '')) } }
        : {}),
    }));
  return {
    name: entry.id,
    versions,
    platform: 'onnxruntime_onnx',
    inputs: tensors(entry.inputs),
    outputs: tensors(entry.outputs),
  };
}
