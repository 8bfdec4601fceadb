import { OnDeviceError } from '../index';
import { captureMicrophone, type MicrophoneCapture } from './captureMicrophone';
import { createModelPanel } from './createModelPanel';
import { pipelineClient } from './createPipelineClient';
import { decodeAudio } from './decodeAudio';
import { clearError, showError } from './describeError';
import { drawTimeline, type Timeline } from './drawTimeline';
import { formatMs } from './format';
import type { SpeechSegment, VadEvent } from './vad';
import { acceptFiles } from './acceptFiles';
import { fetchSample } from './fetchSample';

const SAMPLE_URL = '/samples/speech-sample.wav';
/** The microphone stops by itself after this long (the page keeps every sample for the waveform). */
const MAX_RECORDING_MS = 5 * 60_000;

/**
 * Voice activity: an audio file (or the microphone) in, Silero VAD v5 in the pipeline worker (audio
 * resampled to 16 kHz, recurrent state carried frame to frame), speech segments on a waveform timeline.
 */
export function createVadTab(panel: HTMLElement, onModelsLoaded?: () => void): { onOpen(): Promise<void> } {
  panel.innerHTML = `
    <h2>Find speech in audio</h2>
    <p class="lead">Silero VAD v5 scores every 32 ms of audio on this device; shaded spans are speech.</p>
    <div id="vad-error" class="error" role="alert" hidden></div>
    <div id="vad-models"></div>
    <div class="dropzone" id="vad-drop">
      <p>Drop an audio file here, or</p>
      <div class="row">
        <label class="button" for="vad-file">Choose audio…</label>
        <input type="file" id="vad-file" accept="audio/*,.wav" class="visually-hidden" />
        <button type="button" id="vad-sample" class="secondary">Try the sample clip</button>
        <button type="button" id="vad-mic" class="secondary" aria-pressed="false">Use the microphone</button>
      </div>
    </div>
    <p id="vad-status" role="status" class="status"></p>
    <div id="vad-result" hidden>
      <canvas id="vad-timeline" class="timeline" role="img" aria-label="Waveform with speech segments shaded"></canvas>
      <audio id="vad-audio" controls hidden></audio>
      <table id="vad-segments">
        <caption>Speech segments</caption>
        <thead><tr><th scope="col">#</th><th scope="col">Start</th><th scope="col">End</th><th scope="col">Length</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="vad-timings" class="timings"></p>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => panel.querySelector<T>(`#${id}`)!;
  const errorRegion = $('vad-error');
  const models = createModelPanel({
    task: 'vad',
    prefix: 'vad',
    defaultBackend: 'wasm',
    hint: 'WASM is the default here: one 32 ms frame at a time is too little work to gain from a GPU.',
    errorRegion,
    onLoaded: onModelsLoaded,
  });
  $('vad-models').append(models.element);
  const status = $('vad-status');
  const result = $('vad-result');
  const canvas = $<HTMLCanvasElement>('vad-timeline');
  const audio = $<HTMLAudioElement>('vad-audio');
  const micButton = $<HTMLButtonElement>('vad-mic');
  let current = 0;
  let timeline: Timeline | undefined;
  let mic:
    | {
        capture: MicrophoneCapture;
        chunks: Float32Array[];
        length: number;
        segments: SpeechSegment[];
        openSince?: number;
        queue: Promise<void>;
        timer: number;
        stopping?: boolean;
      }
    | undefined;

  function renderSegments(segments: SpeechSegment[]): void {
    $('vad-segments').querySelector('tbody')!.innerHTML = segments
      .map(
        (s, i) =>
          `<tr data-start-ms="${s.startMs.toFixed(1)}" data-end-ms="${s.endMs.toFixed(1)}"><td>${i + 1}</td>` +
          `<td>${(s.startMs / 1000).toFixed(2)} s</td><td>${(s.endMs / 1000).toFixed(2)} s</td><td>${formatMs(s.endMs - s.startMs)}</td></tr>`,
      )
      .join('');
  }

  function redraw(): void {
    if (timeline && !result.hidden) drawTimeline(canvas, timeline);
  }
  new ResizeObserver(redraw).observe(canvas);

  async function analyse(file: Blob, name: string): Promise<void> {
    const run = ++current;
    clearError(errorRegion);
    await stopMicrophone();
    result.dataset.state = 'working';
    result.setAttribute('aria-busy', 'true');
    status.textContent = `Decoding ${name}…`;
    try {
      const { samples, sampleRate } = await decodeAudio(file);
      if (samples.length === 0) throw new OnDeviceError('INVALID_INPUT', 'The audio file is empty');
      audio.src = URL.createObjectURL(file);
      audio.hidden = false;
      timeline = { samples, sampleRate, segments: [] };
      result.hidden = false;
      redraw();
      renderSegments([]);
      status.textContent = 'Loading the VAD model…';
      await models.ensureLoaded();
      if (run !== current) return;
      status.textContent = 'Finding speech…';
      const started = performance.now();
      // The worker gets a copy: the page keeps its samples for the waveform.
      const detection = await pipelineClient().detectSpeech(samples.slice(), sampleRate);
      if (run !== current) return;
      const ms = performance.now() - started;
      const durationMs = (samples.length / sampleRate) * 1000;
      timeline = { ...timeline, segments: detection.segments, probabilities: detection.probabilities, frameMs: detection.frameMs };
      redraw();
      renderSegments(detection.segments);
      status.textContent = `${detection.segments.length} speech segment${detection.segments.length === 1 ? '' : 's'} in ${(durationMs / 1000).toFixed(1)} s of audio.`;
      $('vad-timings').textContent =
        `${detection.probabilities.length} frames (${sampleRate === 16_000 ? '16 kHz' : `${sampleRate} Hz resampled to 16 kHz`}) in ${formatMs(ms)} — ${(durationMs / ms).toFixed(0)}× faster than real time`;
      result.dataset.state = 'done';
    } catch (error) {
      if (run !== current) return;
      status.textContent = '';
      result.dataset.state = 'failed';
      showError(errorRegion, error);
    } finally {
      if (run === current) result.removeAttribute('aria-busy');
    }
  }

  function onEvents(events: VadEvent[]): void {
    if (!mic) return;
    for (const event of events) {
      if (event.type === 'speech-start') mic.openSince = event.startMs;
      else if (event.type === 'speech-end') {
        mic.segments.push({ startMs: event.startMs, endMs: event.endMs });
        mic.openSince = undefined;
      } else if (event.type === 'misfire') mic.openSince = undefined;
    }
  }

  function liveTimeline(): void {
    if (!mic) return;
    const samples = new Float32Array(mic.length);
    let offset = 0;
    for (const chunk of mic.chunks) {
      samples.set(chunk, offset);
      offset += chunk.length;
    }
    timeline = { samples, sampleRate: mic.capture.sampleRate, segments: [...mic.segments], openSince: mic.openSince };
    redraw();
    renderSegments(mic.segments);
    status.textContent = `Listening… ${(mic.length / mic.capture.sampleRate).toFixed(0)} s, ${mic.segments.length} segment${mic.segments.length === 1 ? '' : 's'}${mic.openSince !== undefined ? ' — speech now' : ''}`;
  }

  async function startMicrophone(): Promise<void> {
    const run = ++current;
    clearError(errorRegion);
    micButton.disabled = true;
    try {
      status.textContent = 'Loading the VAD model…';
      await models.ensureLoaded();
      const pipeline = pipelineClient();
      const chunks: Float32Array[] = [];
      const capture = await captureMicrophone((chunk) => {
        const live = mic;
        if (!live) return;
        chunks.push(chunk);
        live.length += chunk.length;
        // In order, one at a time; a copy, because the page keeps the chunks for the waveform.
        const copy = chunk.slice();
        live.queue = live.queue
          .then(() => pipeline.pushAudio(copy))
          .then(onEvents, (error: unknown) => {
            if (mic !== live) return;
            showError(errorRegion, error);
            void stopMicrophone();
          });
        if (live.length / capture.sampleRate > MAX_RECORDING_MS / 1000) void stopMicrophone();
      });
      if (run !== current) return void capture.stop();
      await pipeline.startStream(capture.sampleRate);
      mic = { capture, chunks, length: 0, segments: [], queue: Promise.resolve(), timer: window.setInterval(liveTimeline, 250) };
      audio.hidden = true;
      audio.removeAttribute('src');
      renderSegments([]);
      result.hidden = false;
      result.dataset.state = 'listening';
      liveTimeline();
      $('vad-timings').textContent = `Microphone at ${capture.sampleRate} Hz, resampled to 16 kHz in the worker.`;
      micButton.textContent = 'Stop the microphone';
      micButton.setAttribute('aria-pressed', 'true');
    } catch (error) {
      status.textContent = '';
      showError(errorRegion, error);
    } finally {
      micButton.disabled = false;
    }
  }

  async function stopMicrophone(): Promise<void> {
    const stopping = mic;
    if (!stopping || stopping.stopping) return;
    stopping.stopping = true;
    clearInterval(stopping.timer);
    await stopping.capture.stop(); // no chunks after this
    await stopping.queue; // the chunks in flight still report their events
    onEvents(
      await pipelineClient()
        .endStream()
        .catch(() => []),
    );
    liveTimeline();
    mic = undefined;
    status.textContent = `Stopped. ${stopping.segments.length} speech segment${stopping.segments.length === 1 ? '' : 's'}.`;
    result.dataset.state = 'done';
    micButton.textContent = 'Use the microphone';
    micButton.setAttribute('aria-pressed', 'false');
  }

  micButton.addEventListener('click', () => void (mic ? stopMicrophone() : startMicrophone()));
  acceptFiles({
    target: panel,
    dropZone: $('vad-drop'),
    input: $<HTMLInputElement>('vad-file'),
    pick: (transfer) => Array.from(transfer?.files ?? []).find((f) => f.type.startsWith('audio/') || f.name.endsWith('.wav')),
    onFile: (file) => void analyse(file, file.name),
    onRejected: () => showError(errorRegion, new OnDeviceError('INVALID_INPUT', 'Drop an audio file (WAV, MP3, Ogg, …)')),
  });
  $('vad-sample').addEventListener('click', async () => {
    try {
      await analyse(await fetchSample(SAMPLE_URL, 'the sample clip'), 'the sample clip');
    } catch (error) {
      showError(errorRegion, error);
    }
  });

  return {
    /** Loads the tab's models; settles (never rejects: a failure is shown in the panel) when they are ready. */
    onOpen() {
      return models.ensureLoaded().then(
        () => undefined,
        () => undefined,
      );
    },
  };
}
