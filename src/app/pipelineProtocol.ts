// Types-only protocol between the demo page and its pipeline worker (src/app/pipelineWorker.ts), which
// runs the OCR and VAD pipelines (pre/post-processing) and drives the ondevice runtime from off the
// main thread. Failures are thrown as OnDeviceError and cross through comlink with their code
// (transferOnDeviceErrors.ts).
import type { Backend, BackendPreference } from '../index';
import type { OcrResult } from './ocr';
import type { SpeechDetection, VadEvent } from './vad';

export type Task = 'ocr' | 'vad';

/** Download/read progress of one of a task's models. */
export interface ModelProgress {
  modelId: string;
  loaded: number;
  total: number;
  fromCache?: boolean;
}

/** What the page shows about a loaded model: backend badge, reasons, timings. */
export interface ModelSummary {
  id: string;
  backend: Backend;
  fallbackReason?: string;
  threads: number;
  threadsReason?: string;
  bytes: number;
  fromCache: boolean;
  /** Fetch (or store read), session creation and warm-up, in ms. */
  loadMs: { fetch: number; session: number; warmup: number };
  storeWarning?: string;
}

/**
 * How the recogniser takes the lines: 'parallel' reads line by line over a pool of workers, one session per free
 * core (`model.runBatch`); a number is lines per call; 'auto' batches on WebGPU and on WASM reads line by line,
 * 'parallel' when the cores allow a second session (a batch costs as much per line as one line at a time there,
 * see bench/README.md, "OCR of a dense page").
 */
export type RecBatching = 'auto' | 'parallel' | number;

/** OCR lines with boxes in the pixels of `size` (the worker shrinks very large images first). */
export interface TextRecognition extends OcrResult {
  size: { width: number; height: number };
  /** Lines the recogniser took per call. */
  recBatchSize: number;
  /** Whether the calls were spread over a pool of workers ('parallel'). */
  recParallel: boolean;
}

export interface PipelineWorkerApi {
  /** Load (or reload on another backend) the models a task needs. */
  prepare(task: Task, backend: BackendPreference, onProgress: (progress: ModelProgress) => void): Promise<ModelSummary[]>;
  /** PaddleOCR on an image (the bitmap is transferred and closed). */
  recognizeText(image: ImageBitmap, options?: { recBatching?: RecBatching }): Promise<TextRecognition>;
  /** Silero VAD over a whole recording (mono samples at `sampleRate`, transferred). */
  detectSpeech(samples: Float32Array, sampleRate: number): Promise<SpeechDetection>;
  /** Start a live stream (microphone); `pushAudio` chunks in order, `endStream` closes open speech. */
  startStream(sampleRate: number): Promise<void>;
  pushAudio(chunk: Float32Array): Promise<VadEvent[]>;
  endStream(): Promise<VadEvent[]>;
}
