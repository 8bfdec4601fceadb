import * as Comlink from 'comlink';
import { OnDeviceError } from '../index';
import { deserializeError } from '../core/OnDeviceError';
import type { BackendPreference } from '../index';
import type { SpeechDetection, VadEvent } from './vad';
import type { ModelProgress, ModelSummary, PipelineResult, PipelineWorkerApi, Task, TextRecognition } from './pipelineProtocol';

/** The page's side of the pipeline worker: results unwrapped, failures rebuilt as OnDeviceError. */
export interface PipelineClient {
  prepare(task: Task, backend: BackendPreference, onProgress: (p: ModelProgress) => void): Promise<ModelSummary[]>;
  recognizeText(image: ImageBitmap): Promise<TextRecognition>;
  detectSpeech(samples: Float32Array, sampleRate: number): Promise<SpeechDetection>;
  startStream(sampleRate: number): Promise<void>;
  pushAudio(chunk: Float32Array): Promise<VadEvent[]>;
  endStream(): Promise<VadEvent[]>;
}

let shared: PipelineClient | undefined;

/** One pipeline worker for the page, started on first use (the OCR and VAD tabs share it). */
export function pipelineClient(): PipelineClient {
  shared ??= createPipelineClient();
  return shared;
}

function createPipelineClient(): PipelineClient {
  const worker = new Worker(new URL('./pipelineWorker.ts', import.meta.url), { type: 'module', name: 'ondevice-demo-pipeline' });
  const remote = Comlink.wrap<PipelineWorkerApi>(worker);
  let rejectDied!: (error: OnDeviceError) => void;
  const died = new Promise<never>((_, reject) => (rejectDied = reject));
  died.catch(() => undefined); // observed through call()
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    rejectDied(new OnDeviceError('WORKER_CRASHED', `The demo's pipeline worker stopped: ${event.message || 'it failed to start'}`));
    shared = undefined; // the next use starts a fresh one
  });

  async function call<T>(result: Promise<PipelineResult<T>>): Promise<T> {
    const settled = await Promise.race([result, died]);
    if (!settled.ok) throw deserializeError(settled.error);
    return settled.value;
  }

  return {
    prepare: (task, backend, onProgress) => call(remote.prepare(task, backend, Comlink.proxy(onProgress))),
    recognizeText: (image) => call(remote.recognizeText(Comlink.transfer(image, [image]))),
    detectSpeech: (samples, sampleRate) => call(remote.detectSpeech(Comlink.transfer(samples, [samples.buffer]), sampleRate)),
    startStream: async (sampleRate) => void (await call(remote.startStream(sampleRate))),
    pushAudio: (chunk) => call(remote.pushAudio(Comlink.transfer(chunk, [chunk.buffer]))),
    endStream: () => call(remote.endStream()),
  };
}
