import type { ElementType } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { isElementType } from '../core/elementTypes';

interface SessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata?: readonly unknown[];
  outputMetadata?: readonly unknown[];
}

/**
 * Inputs and outputs as `{ name, type, shape }`: the registry entry's when it has them (they keep symbolic
 * dim names), otherwise what the session reports.
 */
export function sessionSpecs(session: SessionLike, known?: { inputs?: TensorSpec[]; outputs?: TensorSpec[] }) {
  return {
    inputs: known?.inputs ?? toSpecs(session.inputNames, session.inputMetadata),
    outputs: known?.outputs ?? toSpecs(session.outputNames, session.outputMetadata),
  };
}

function toSpecs(names: readonly string[], metadata: readonly unknown[] | undefined): TensorSpec[] {
  return names.map((name, i) => {
    const meta = (metadata?.[i] ?? {}) as { type?: unknown; shape?: unknown };
    const type: ElementType = isElementType(meta.type) ? meta.type : 'float32';
    const shape = Array.isArray(meta.shape) ? meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d ?? ''))) : [];
    return { name, type, shape };
  });
}
