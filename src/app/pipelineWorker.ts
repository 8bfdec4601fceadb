/// <reference lib="webworker" />
// The demo's pipeline worker: image and audio pre/post-processing (PaddleOCR, Silero VAD) runs here, and
// so does the ondevice library, whose runtime workers this worker starts (nested dedicated workers).
// The page only hands over an ImageBitmap or samples and draws what comes back.
import * as Comlink from 'comlink';
import { configure, fetchRegistry, loadModel, OnDeviceError, type BackendPreference, type Model, type RegistryEntry } from '../index';
import type { Feeds } from '../index';
import { recognize } from './ocr';
import { createVadStream, detectSpeech, type VadStream } from './vad';
import type { ModelProgress, ModelSummary, PipelineWorkerApi, Task } from './pipelineProtocol';
import { transferOnDeviceErrors } from './transferOnDeviceErrors';

transferOnDeviceErrors();

configure({ baseUrl: new URL('/', self.location.href).href, telemetry: { endpoint: '/v1/events', siteKey: 'demo' } });

const MODELS_FOR: Record<Task, string[]> = {
  ocr: ['ppocr-v4-det', 'ppocr-v2-cls', 'ppocr-v4-rec'],
  vad: ['silero-vad-v5'],
};
const OCR_IDS = { det: 'ppocr-v4-det', cls: 'ppocr-v2-cls', rec: 'ppocr-v4-rec' };
/**
 * Boxes grown a little more than DB's default 1.5: with the tighter crops rec v4 drops most spaces
 * between words ("GREENLEAFCAFE"); at 2.0 our rendered-text and receipt samples read with their spaces.
 */
const OCR_OPTIONS = { modelIds: OCR_IDS, unclipRatio: 2 };
/** Lines per recogniser call when batching: PaddleOCR's rec_batch_num. */
const REC_BATCH_SIZE = 6;
/** The worker never holds more than this many pixels (a 12 MP photo is shrunk before OCR; det sees 960 px anyway). */
const MAX_OCR_SIDE = 2560;

const loaded = new Map<string, Model>();
const preparing = new Map<Task, Promise<ModelSummary[]>>();
let keys: Promise<string> | undefined;
let stream: VadStream | undefined;

const runModel = (modelId: string, feeds: Feeds): Promise<Feeds> => {
  const model = loaded.get(modelId);
  if (!model) return Promise.reject(new OnDeviceError('DISPOSED', `${modelId} is not loaded; pick a backend to load it`));
  return model.run(feeds);
};

/**
 * The recogniser's lines over a pool of workers (`runBatch`: one session per free core, see bench/README.md), for the
 * "on every core" reading. A line that failed fails the reading with its error.
 */
const runModelMany = async (modelId: string, feedsList: Feeds[]): Promise<Feeds[]> => {
  const model = loaded.get(modelId);
  if (!model) throw new OnDeviceError('DISPOSED', `${modelId} is not loaded; pick a backend to load it`);
  const results = await model.runBatch(feedsList);
  return results.map((r) => {
    if (!r.ok) throw r.error;
    return r.outputs;
  });
};

function summarize(model: Model): ModelSummary {
  const { info } = model;
  return {
    id: model.id,
    backend: model.backend,
    fallbackReason: model.fallbackReason,
    threads: info.threads,
    threadsReason: info.threadsReason,
    bytes: info.bytes,
    fromCache: info.fromCache,
    loadMs: { fetch: info.timings.fetchMs, session: info.timings.sessionMs, warmup: info.timings.warmupMs },
    storeWarning: info.storeWarning?.message,
  };
}

async function loadTask(task: Task, backend: BackendPreference, onProgress: (p: ModelProgress) => void): Promise<ModelSummary[]> {
  for (const id of MODELS_FOR[task]) {
    loaded.get(id)?.dispose();
    loaded.delete(id);
  }
  const registry = await fetchRegistry();
  const summaries: ModelSummary[] = [];
  // One after another: the models share the worker, and progress reads top to bottom.
  for (const id of MODELS_FOR[task]) {
    const entry = registry.find((e) => e.id === id);
    if (!entry) throw new OnDeviceError('INVALID_INPUT', `The model registry has no "${id}"; run npm run models:sync`, { id });
    const model = await loadModel(entry, { backend, onProgress: (p) => onProgress({ modelId: id, ...p }) });
    loaded.set(id, model);
    summaries.push(summarize(model));
  }
  if (task === 'ocr') keys ??= fetchKeys(registry);
  await keys;
  return summaries;
}

/** ppocr_keys_v1.txt, the recogniser's character list, listed as an asset of its registry entry. */
async function fetchKeys(registry: RegistryEntry[]): Promise<string> {
  const entry = registry.find((e) => e.id === OCR_IDS.rec);
  const asset = (entry?.assets as { name: string; file: string }[] | undefined)?.find((a) => a.name === 'keys');
  const url = new URL(asset?.file ?? 'ppocr_keys_v1.txt', new URL('models/registry.json', new URL('/', self.location.href))).href;
  const response = await fetch(url).catch((error: Error) => {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the OCR character list ${url}: ${error.message}`, { url });
  });
  if (!response.ok) {
    keys = undefined;
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the OCR character list ${url}: HTTP ${response.status}`, { url });
  }
  return response.text();
}

function ready(task: Task): Promise<unknown> {
  const pending = preparing.get(task);
  if (!pending) throw new OnDeviceError('INVALID_INPUT', `Load the ${task === 'ocr' ? 'OCR' : 'VAD'} models first`);
  return pending;
}

/** RGBA pixels of the bitmap, shrunk so its longer side is at most MAX_OCR_SIDE. */
function pixelsOf(image: ImageBitmap): ImageData {
  const scale = Math.min(1, MAX_OCR_SIDE / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new OnDeviceError('NOT_SUPPORTED', 'This browser has no 2D canvas in workers (OffscreenCanvas)');
  context.drawImage(image, 0, 0, width, height);
  image.close();
  return context.getImageData(0, 0, width, height);
}

const api: PipelineWorkerApi = {
  prepare(task, backend, onProgress) {
    // A second prepare (another backend) waits for the first, so they never interleave their models.
    const loading = (preparing.get(task) ?? Promise.resolve()).catch(() => undefined).then(() => loadTask(task, backend, onProgress));
    preparing.set(task, loading);
    loading.catch(() => preparing.get(task) === loading && preparing.delete(task));
    return loading;
  },
  async recognizeText(image, options = {}) {
    await ready('ocr');
    const pixels = pixelsOf(image);
    const { recBatching = 'auto' } = options;
    const rec = loaded.get(OCR_IDS.rec);
    const onGpu = rec?.backend === 'webgpu';
    // auto: batches on WebGPU (one call per batch is where it pays); on WASM line by line, over a pool of workers
    // when the cores allow more than one session (rec v4 is compute-bound there: more cores is what helps).
    const cores = self.navigator.hardwareConcurrency ?? 1;
    const parallel = recBatching === 'parallel' || (recBatching === 'auto' && !onGpu && cores / Math.max(1, rec?.info.threads ?? 1) >= 2);
    const recBatchSize =
      typeof recBatching === 'number' ? Math.max(1, Math.trunc(recBatching)) : recBatching === 'auto' && onGpu ? REC_BATCH_SIZE : 1;
    const result = await recognize(pixels, runModel, await keys!, {
      ...OCR_OPTIONS,
      recBatchSize,
      ...(parallel ? { runModelMany } : {}),
    });
    return { ...result, recBatchSize, recParallel: parallel, size: { width: pixels.width, height: pixels.height } };
  },
  async detectSpeech(samples, sampleRate) {
    await ready('vad');
    return detectSpeech(samples, sampleRate, runModel);
  },
  async startStream(sampleRate) {
    await ready('vad');
    stream = createVadStream(runModel, sampleRate);
  },
  async pushAudio(chunk) {
    if (!stream) throw new OnDeviceError('INVALID_INPUT', 'No microphone stream is running');
    return stream.push(chunk);
  },
  async endStream() {
    const ending = stream;
    stream = undefined;
    return ending ? ending.flush() : [];
  },
};

Comlink.expose(api);
