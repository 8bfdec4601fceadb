/** How a model reports a dimension it does not fix and does not name. */
export const UNKNOWN_DIM = '?';

/**
 * The largest dim we take as fixed. onnxruntime marks a free dim as -1, and onnxruntime-web reads it
 * back as an unsigned pointer-sized value (2³²−1 on wasm32), which once made us allocate 2³²−1
 * elements for a warm-up buffer. No real tensor on a 4 GiB wasm heap has a dim this large.
 */
const MAX_FIXED_DIM = 0x7fff_ffff;

/** A dim that must match exactly: a non-negative integer within what a tensor can have. */
export function isFixedDim(dim: number | string): dim is number {
  return typeof dim === 'number' && Number.isInteger(dim) && dim >= 0 && dim <= MAX_FIXED_DIM;
}

/**
 * One dim of a model's input or output shape as we report it: a fixed size stays a number, a named
 * symbolic dim keeps its name, and an unnamed or unknown one (-1, 2³²−1, '', NaN) becomes `'?'`.
 */
export function normalizeDim(dim: number | string): number | string {
  // '-1' is how we ourselves once reported a free dim; a stored manifest may still say so.
  if (typeof dim === 'string') return dim === '' || /^-\d+$/.test(dim) ? UNKNOWN_DIM : dim;
  return isFixedDim(dim) ? dim : UNKNOWN_DIM;
}
