import { boxScoreFast } from './boxScoreFast';
import { findComponents } from './findComponents';
import { getMiniBox } from './getMiniBox';
import { orderPointsClockwise } from './orderPointsClockwise';
import type { Quad } from './types';
import { unclipBox } from './unclipBox';

export interface DbOptions {
  /** Pixels above this probability are text. Default 0.3. */
  threshold?: number;
  /** Boxes whose mean probability is below this are dropped. Default 0.6. */
  boxThreshold?: number;
  /** How far the shrunk kernel is grown back (DB's r). Default 1.5. */
  unclipRatio?: number;
  /** At most this many regions are considered. Default 1000. */
  maxCandidates?: number;
}

export interface DetectedBox {
  /** Clockwise from top-left, in source-image pixels. */
  box: Quad;
  score: number;
}

const MIN_SIZE = 3;

/**
 * PaddleOCR's DBPostProcess (score_mode 'fast', box_type 'quad', no dilation) followed by TextDetector's
 * filter_tag_det_res: threshold the map, box each region with its min-area rectangle, keep confident
 * boxes, unclip them, scale to the source image and drop slivers. Boxes come out unsorted.
 */
export function dbPostprocess(
  probabilityMap: { data: Float32Array; width: number; height: number },
  sourceWidth: number,
  sourceHeight: number,
  options: DbOptions = {},
): DetectedBox[] {
  const { threshold = 0.3, boxThreshold = 0.6, unclipRatio = 1.5, maxCandidates = 1000 } = options;
  const { data, width, height } = probabilityMap;
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i] > threshold ? 1 : 0;

  const results: DetectedBox[] = [];
  for (const region of findComponents(mask, width, height).slice(0, maxCandidates)) {
    const kernel = getMiniBox(region);
    if (kernel.shortSide < MIN_SIZE) continue;
    const score = boxScoreFast(data, width, height, kernel.box);
    if (score < boxThreshold) continue;
    const grown = getMiniBox(unclipBox(kernel.box, unclipRatio));
    if (grown.shortSide < MIN_SIZE + 2) continue;
    const scaled = grown.box.map(([x, y]) => [
      clamp(Math.round((x / width) * sourceWidth), 0, sourceWidth),
      clamp(Math.round((y / height) * sourceHeight), 0, sourceHeight),
    ]) as Quad;
    // filter_tag_det_res: order, clip to the last pixel, drop boxes 3 px or less across.
    const box = orderPointsClockwise(scaled).map(([x, y]) => [clamp(x, 0, sourceWidth - 1), clamp(y, 0, sourceHeight - 1)]) as Quad;
    if (Math.trunc(distance(box[0], box[1])) <= MIN_SIZE || Math.trunc(distance(box[0], box[3])) <= MIN_SIZE) continue;
    results.push({ box, score });
  }
  return results;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
