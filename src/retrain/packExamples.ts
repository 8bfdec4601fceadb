import type { LabelledExample } from './FieldSample';

/** Labelled examples as one float32 array per input (rows back to back): what a sandbox child evaluates on. */
export interface PackedExamples {
  count: number;
  /** Per input: every example's row, and the dims of one row after its leading 1. */
  inputs: Record<string, { rowDims: number[]; data: Float32Array }>;
  labels: (number | string)[];
}

/**
 * Pack examples whose inputs are each one row (dims `[1, …]`) of the same length as the first example's, so they
 * cross to a child process as a few typed arrays instead of millions of numbers in objects.
 */
export function packExamples(examples: readonly LabelledExample[]): PackedExamples {
  const inputs: PackedExamples['inputs'] = {};
  const first = examples[0];
  for (const [name, tensor] of Object.entries(first?.inputs ?? {})) {
    const rowLength = tensor.data.length;
    const data = new Float32Array(rowLength * examples.length);
    examples.forEach((e, i) => {
      const t = Object.hasOwn(e.inputs, name) ? e.inputs[name] : undefined;
      if (!t || t.data.length !== rowLength)
        throw new Error(`input ${name} of example ${i} has ${t?.data.length ?? 0} values, expected ${rowLength}`);
      data.set(t.data, i * rowLength);
    });
    inputs[name] = { rowDims: tensor.dims.slice(1), data };
  }
  return { count: examples.length, inputs, labels: examples.map((e) => e.label) };
}
