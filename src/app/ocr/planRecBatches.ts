import type { RgbaImage } from './types';

export interface RecBatch {
  /** Indices into the crops, narrowest aspect ratio first. */
  indices: number[];
  /** The strip width every crop of the batch is padded to: the widest one's, within [minWidth, maxWidth]. */
  width: number;
}

export interface RecBatchLimits {
  /** Lines per batch at most. */
  batchSize: number;
  /** Strip height the crops are scaled to. */
  height: number;
  minWidth: number;
  maxWidth: number;
  /**
   * A line joins a batch only while the strip the batch's narrowest line would get on its own still
   * fills at least this share of the batch's strip (1 − the padding batching adds). Default 0.95.
   */
  minFill?: number;
}

/**
 * PaddleOCR's TextRecognizer batching: crops sorted by aspect ratio (width / height), cut into batches
 * of `batchSize`, each batch as wide as its widest crop at `height` (never below `minWidth`, squeezed to
 * `maxWidth`). Sorting keeps similar lines together, so the padding a batch adds stays small; unlike
 * PaddleOCR, a batch also ends where it would pad its narrowest line by more than 1 − `minFill`:
 * rec v4 mixes features along the whole strip, and 9% of padding already drops the space in the
 * receipt's "Blueberry muffin 2.95" at unclip 1.5.
 */
export function planRecBatches(crops: readonly RgbaImage[], limits: RecBatchLimits): RecBatch[] {
  const { height, minWidth, maxWidth, minFill = 0.95 } = limits;
  const batchSize = Math.max(1, Math.trunc(limits.batchSize));
  const ratio = (i: number) => crops[i].width / crops[i].height;
  const stripWidth = (r: number) => Math.min(maxWidth, Math.trunc(height * Math.max(minWidth / height, r)));
  // Stable: equal ratios keep their reading order, so a plan is the same on every run.
  const order = crops.map((_, i) => i).sort((a, b) => ratio(a) - ratio(b) || a - b);
  const batches: RecBatch[] = [];
  let current: number[] = [];
  const close = () => {
    if (current.length > 0) batches.push({ indices: current, width: stripWidth(ratio(current[current.length - 1])) });
    current = [];
  };
  for (const index of order) {
    // The padding batching adds: what the batch's narrowest line would get beyond its own strip.
    const narrowest = current.length > 0 ? stripWidth(ratio(current[0])) : 0;
    if (current.length === batchSize || (current.length > 0 && narrowest < minFill * stripWidth(ratio(index)))) close();
    current.push(index);
  }
  close();
  return batches;
}
