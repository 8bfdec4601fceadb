import type { Feeds } from '../../index';

/** Pixels as ImageData lays them out (RGBA, row-major); an `ImageData` from a canvas fits as is. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export type Point = [x: number, y: number];
/** Four corners, clockwise from the top-left one. */
export type Quad = [Point, Point, Point, Point];

/**
 * Runs one inference of the model registered under `modelId` (same contract as the VAD pipeline's).
 *
 * @example
 * const runModel: RunModel = (modelId, feeds) => models[modelId].run(feeds);
 */
export type RunModel = (modelId: string, feeds: Feeds) => Promise<Feeds>;

/** Runs `modelId` on every feeds of the list (at once where it can) and resolves with the outputs in list order. */
export type RunModelMany = (modelId: string, feedsList: Feeds[]) => Promise<Feeds[]>;
