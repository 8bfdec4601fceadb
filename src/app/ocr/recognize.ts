import { OnDeviceError } from '../../index';
import type { Feeds, TensorData } from '../../index';
import { cropBox } from './cropBox';
import { ctcCharset } from './ctcCharset';
import { ctcDecode } from './ctcDecode';
import { dbPostprocess, type DbOptions } from './dbPostprocess';
import { detPreprocess } from './detPreprocess';
import { rotate180 } from './rotate180';
import { sortBoxes } from './sortBoxes';
import { planRecBatches } from './planRecBatches';
import { stripTensor, stripWidthOf } from './stripTensor';
import type { Quad, RgbaImage, RunModel, RunModelMany } from './types';

export interface OcrOptions extends DbOptions {
  /** The ids `runModel` knows the three models by. */
  modelIds?: { det?: string; cls?: string; rec?: string };
  /** The detector sees the image shrunk so its longer side is at most this. Default 960. */
  limitSideLen?: number;
  /** Run the 0°/180° direction classifier. Default true. */
  useAngleClassifier?: boolean;
  /** A line is turned over when the classifier says '180' with more than this. Default 0.9. */
  clsThreshold?: number;
  /**
   * Lines recognised per inference. Default 1, where PaddleOCR batches 6. A batch is sorted by aspect
   * ratio and zero-padded (PaddleOCR's value) to its widest line, and each line is decoded over its own
   * width only, so batches read the fixtures as line by line does. On WASM a batch costs as much per
   * padded pixel as single lines (the recogniser is compute-bound), so batching pays where calls are
   * dear (WebGPU); see bench/README.md, "OCR of a dense page".
   */
  recBatchSize?: number;
  /**
   * Run many recogniser calls at once (e.g. `(id, list) => model.runBatch(list)`, which spreads them over a pool of
   * workers, one per free core): the calls are handed over `recParallelChunk` at a time, in reading order. Without it
   * the calls run one after another through `runModel`.
   */
  runModelMany?: RunModelMany;
  /** Recogniser calls handed to `runModelMany` at once (bounds the strips held in memory). Default 8. */
  recParallelChunk?: number;
  /** Widest recogniser input in pixels (at 48 px high); longer lines are squeezed. Default 3200. */
  recMaxWidth?: number;
  /** Lines recognised with a lower score are dropped. Default 0.5. */
  dropScore?: number;
  signal?: AbortSignal;
}

export interface OcrLine {
  text: string;
  /** Mean probability of the line's characters. */
  score: number;
  /** Clockwise from top-left, in image pixels. */
  box: Quad;
}

export interface OcrResult {
  /** In reading order: top to bottom, left to right within a line. */
  lines: OcrLine[];
  timings: { detectMs: number; classifyMs: number; recognizeMs: number; totalMs: number };
}

export const DEFAULT_OCR_MODEL_IDS = { det: 'ocr-det', cls: 'ocr-cls', rec: 'ocr-rec' } as const;
const LINE_HEIGHT = 48;
const CLS_WIDTH = 192;
const REC_MIN_WIDTH = 320;
const CLS_BATCH_SIZE = 6;

/**
 * PaddleOCR v4's TextSystem: detect text boxes (DB), crop each into an upright strip, turn upside-down
 * ones over (cls v2), and read them (rec v4, greedy CTC). `keys` is ppocr_keys_v1.txt's text.
 *
 * @example
 * const ctx = canvas.getContext('2d')!;
 * const { lines } = await recognize(ctx.getImageData(0, 0, w, h), runModel, keysText);
 * lines.map((l) => l.text).join('\n');
 */
export async function recognize(
  image: RgbaImage,
  runModel: RunModel,
  keys: string | readonly string[],
  options: OcrOptions = {},
): Promise<OcrResult> {
  const start = performance.now();
  const ids = { ...DEFAULT_OCR_MODEL_IDS, ...options.modelIds };
  const { signal, limitSideLen = 960, useAngleClassifier = true, clsThreshold = 0.9 } = options;
  const { recBatchSize = 1, recMaxWidth = 3200, dropScore = 0.5 } = options;
  if (image.width < 1 || image.height < 1 || image.data.length !== image.width * image.height * 4) {
    throw new OnDeviceError('INVALID_INPUT', 'OCR input must be RGBA pixels of width × height', {
      width: image.width,
      height: image.height,
      bytes: image.data.length,
    });
  }
  const charset = ctcCharset(keys);
  const opaque = flattenOnWhite(image);

  const run = async (modelId: string, x: TensorData): Promise<TensorData> => {
    if (signal?.aborted) throw new OnDeviceError('ABORTED', 'Text recognition was aborted', { modelId });
    return onlyOutput(await runModel(modelId, { x }), modelId);
  };

  const det = detPreprocess(opaque, limitSideLen);
  const map = await run(ids.det, det.tensor);
  const [, , mapHeight, mapWidth] = map.dims;
  const boxes = sortBoxes(
    dbPostprocess({ data: map.data as Float32Array, width: mapWidth, height: mapHeight }, image.width, image.height, options),
  );
  const crops = boxes.map(({ box }) => cropBox(opaque, box));
  const detected = performance.now();

  if (useAngleClassifier) {
    for (let from = 0; from < crops.length; from += CLS_BATCH_SIZE) {
      const batch = crops.slice(from, from + CLS_BATCH_SIZE);
      const scores = (await run(ids.cls, stripTensor(batch, LINE_HEIGHT, CLS_WIDTH))).data as Float32Array;
      batch.forEach((crop, i) => {
        // label_list ['0', '180']; softmax output, so the two scores sum to 1.
        if (scores[i * 2 + 1] > scores[i * 2] && scores[i * 2 + 1] > clsThreshold) crops[from + i] = rotate180(crop);
      });
    }
  }
  const classified = performance.now();

  const decoded = new Array<{ text: string; score: number }>(crops.length);
  const limits = { batchSize: recBatchSize, height: LINE_HEIGHT, minWidth: REC_MIN_WIDTH, maxWidth: recMaxWidth };
  const plan = planRecBatches(crops, limits);
  const read = ({ indices, width }: (typeof plan)[number], probabilities: TensorData) => {
    // Each line is read over its own width only: the steps past it see the batch's padding.
    const batch = indices.map((i) => crops[i]);
    const steps = probabilities.dims[1];
    const stepsOf = batch.map((crop) => Math.ceil((stripWidthOf(crop, LINE_HEIGHT, width) * steps) / width));
    const texts = ctcDecode(probabilities, charset, stepsOf);
    indices.forEach((index, i) => (decoded[index] = texts[i]));
  };
  const strip = ({ indices, width }: (typeof plan)[number]) =>
    stripTensor(
      indices.map((i) => crops[i]),
      LINE_HEIGHT,
      width,
    );
  if (options.runModelMany) {
    const chunk = Math.max(1, Math.trunc(options.recParallelChunk ?? 8));
    for (let from = 0; from < plan.length; from += chunk) {
      if (signal?.aborted) throw new OnDeviceError('ABORTED', 'Text recognition was aborted', { modelId: ids.rec });
      const part = plan.slice(from, from + chunk);
      const outputs = await options.runModelMany(
        ids.rec,
        part.map((p) => ({ x: strip(p) })),
      );
      part.forEach((p, i) => read(p, onlyOutput(outputs[i], ids.rec)));
    }
  } else {
    for (const p of plan) read(p, await run(ids.rec, strip(p)));
  }
  const end = performance.now();

  const lines = boxes
    .map(({ box }, i) => ({ text: decoded[i].text, score: decoded[i].score, box }))
    .filter((line) => line.score >= dropScore && line.text.length > 0);
  return {
    lines,
    timings: {
      detectMs: detected - start,
      classifyMs: classified - detected,
      recognizeMs: end - classified,
      totalMs: end - start,
    },
  };
}

function onlyOutput(outputs: Feeds, modelId: string): TensorData {
  const values = Object.values(outputs);
  if (values.length !== 1 || !(values[0].data instanceof Float32Array)) {
    throw new OnDeviceError('INFERENCE_FAILED', `Expected one float32 output from ${modelId}`, {
      modelId,
      outputs: Object.keys(outputs),
    });
  }
  return values[0];
}

/**
 * Composite translucent pixels over white. PaddleOCR reads images with cv2, which drops alpha; a canvas
 * hands transparent areas over as (0, 0, 0, 0), which would make dark text on a transparent background
 * unreadable. Opaque images are returned as they are.
 */
function flattenOnWhite(image: RgbaImage): RgbaImage {
  const { data } = image;
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return image;
  const out = new Uint8ClampedArray(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const alpha = data[i + 3] / 255;
    for (let k = 0; k < 3; k++) out[i + k] = Math.round(data[i + k] * alpha + 255 * (1 - alpha));
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}
