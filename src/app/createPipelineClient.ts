import * as Comlink from 'comlink';
import { OnDeviceError } from '../index';
import type { PipelineWorkerApi } from './pipelineProtocol';
import { transferOnDeviceErrors } from './transferOnDeviceErrors';

/** The page's side of the pipeline worker: its API through comlink, failures as OnDeviceError. */
export type PipelineClient = PipelineWorkerApi;

let shared: PipelineClient | undefined;

/** One pipeline worker for the page, started on first use (the OCR and VAD tabs share it). */
export function pipelineClient(): PipelineClient {
  shared ??= createPipelineClient();
  return shared;
}

function createPipelineClient(): PipelineClient {
  transferOnDeviceErrors();
  const worker = new Worker(new URL('./pipelineWorker.ts', import.meta.url), { type: 'module', name: 'ondevice-demo-pipeline' });
  const remote = Comlink.wrap<PipelineWorkerApi>(worker);
  // comlink has no notion of a worker that dies (a failed start, out of memory): its calls would wait
  // forever. Every call is raced against the worker's error event instead.
  const died = new Promise<never>((_, reject) =>
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      worker.terminate();
      remote[Comlink.releaseProxy]();
      if (shared === client) shared = undefined; // the next use starts a fresh one
      reject(new OnDeviceError('WORKER_CRASHED', `The demo's pipeline worker stopped: ${event.message || 'it failed to start'}`));
    }),
  );
  died.catch(() => undefined); // observed through each call
  const call = <T>(result: Promise<T>) => Promise.race([result, died]);
  const client: PipelineClient = {
    prepare: (task, backend, onProgress) => call(remote.prepare(task, backend, Comlink.proxy(onProgress))),
    recognizeText: (image, options) => call(remote.recognizeText(Comlink.transfer(image, [image]), options)),
    detectSpeech: (samples, sampleRate) => call(remote.detectSpeech(Comlink.transfer(samples, [samples.buffer]), sampleRate)),
    startStream: (sampleRate) => call(remote.startStream(sampleRate)),
    pushAudio: (chunk) => call(remote.pushAudio(Comlink.transfer(chunk, [chunk.buffer]))),
    endStream: () => call(remote.endStream()),
  };
  return client;
}
