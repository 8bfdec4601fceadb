// The OCR pipeline of the demo app; everything else in this folder is internal to it.
export { recognize, DEFAULT_OCR_MODEL_IDS, type OcrLine, type OcrOptions, type OcrResult } from './recognize';
export type { DbOptions } from './dbPostprocess';
export type { Point, Quad, RgbaImage, RunModel, RunModelMany } from './types';
export { cer } from './cer';
