import { OnDeviceError } from '../index';
import { createModelPanel } from './createModelPanel';
import { pipelineClient } from './createPipelineClient';
import { clearError, showError } from './describeError';
import { drawOcrBoxes } from './drawOcrBoxes';
import { escapeHtml, formatMs } from './format';
import type { TextRecognition } from './pipelineProtocol';
import { decodeImage, imageFromTransfer } from './readImage';
import { acceptFiles } from './acceptFiles';
import { fetchSample } from './fetchSample';

const SAMPLE_URL = '/samples/ocr-sample.png';
/** The page keeps at most this many pixels per side for display (and hands the same to the worker). */
const MAX_SIDE = 2560;

/**
 * OCR: an image in (file picker, drag and drop, paste, or the bundled sample), PaddleOCR in the pipeline
 * worker, boxes drawn over the image and the text listed in reading order with a copy button.
 */
export function createOcrTab(panel: HTMLElement, onModelsLoaded?: () => void): { onOpen(): Promise<void> } {
  panel.innerHTML = `
    <h2>Read text in an image</h2>
    <p class="lead">PaddleOCR (detection → direction → recognition) runs on this device; the image never leaves it.</p>
    <div id="ocr-error" class="error" role="alert" hidden></div>
    <div id="ocr-models"></div>
    <div class="dropzone" id="ocr-drop">
      <p>Drop an image here, paste one (<kbd>Ctrl</kbd>+<kbd>V</kbd>), or</p>
      <div class="row">
        <label class="button" for="ocr-file">Choose an image…</label>
        <input type="file" id="ocr-file" accept="image/*" class="visually-hidden" />
        <button type="button" id="ocr-sample" class="secondary">Try the sample receipt</button>
      </div>
      <div class="row">
        <label for="ocr-rec-batching">Read lines</label>
        <select id="ocr-rec-batching">
          <option value="auto" selected>auto (batches on WebGPU; on WASM one by one, on every core)</option>
          <option value="1">one by one</option>
          <option value="6">in batches of 6</option>
          <option value="parallel">one by one, on every core</option>
        </select>
      </div>
    </div>
    <p id="ocr-status" role="status" class="status"></p>
    <div class="ocr-result" id="ocr-result" hidden>
      <figure>
        <canvas id="ocr-canvas" role="img" aria-label="The image with a numbered box around each line of text found"></canvas>
      </figure>
      <div class="ocr-text">
        <div class="row">
          <h3 id="ocr-lines-heading">Text</h3>
          <button type="button" id="ocr-copy" disabled>Copy text</button>
          <span id="ocr-copied" role="status" class="hint"></span>
        </div>
        <ol id="ocr-lines" aria-labelledby="ocr-lines-heading"></ol>
        <p id="ocr-timings" class="timings"></p>
      </div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => panel.querySelector<T>(`#${id}`)!;
  const errorRegion = $('ocr-error');
  const models = createModelPanel({ task: 'ocr', prefix: 'ocr', defaultBackend: 'auto', errorRegion, onLoaded: onModelsLoaded });
  $('ocr-models').append(models.element);
  const canvas = $<HTMLCanvasElement>('ocr-canvas');
  const status = $('ocr-status');
  const result = $('ocr-result');
  const linesList = $<HTMLOListElement>('ocr-lines');
  const copy = $<HTMLButtonElement>('ocr-copy');
  let current = 0;
  let shown: { image: HTMLCanvasElement; recognition: TextRecognition } | undefined;

  async function read(blob: Blob, name: string): Promise<void> {
    const run = ++current;
    clearError(errorRegion);
    copy.disabled = true;
    result.setAttribute('aria-busy', 'true');
    result.dataset.state = 'working';
    status.textContent = `Reading ${name}…`;
    try {
      const bitmap = await decodeImage(blob);
      const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      const image = document.createElement('canvas');
      image.width = Math.max(1, Math.round(bitmap.width * scale));
      image.height = Math.max(1, Math.round(bitmap.height * scale));
      image.getContext('2d')!.drawImage(bitmap, 0, 0, image.width, image.height);
      bitmap.close();
      canvas.width = image.width;
      canvas.height = image.height;
      canvas.getContext('2d')!.drawImage(image, 0, 0);
      linesList.replaceChildren();
      $('ocr-timings').textContent = '';
      result.hidden = false;
      status.textContent = 'Loading the OCR models…';
      await models.ensureLoaded();
      if (run !== current) return;
      status.textContent = 'Finding and reading text…';
      const started = performance.now();
      const batching = $<HTMLSelectElement>('ocr-rec-batching').value;
      const recognition = await pipelineClient().recognizeText(await createImageBitmap(image), {
        recBatching: batching === 'auto' || batching === 'parallel' ? batching : Number(batching),
      });
      if (run !== current) return;
      shown = { image, recognition };
      render(performance.now() - started);
    } catch (error) {
      if (run !== current) return;
      status.textContent = '';
      result.dataset.state = 'failed';
      showError(errorRegion, error);
    } finally {
      if (run === current) result.removeAttribute('aria-busy');
    }
  }

  function render(roundTripMs: number): void {
    const { image, recognition } = shown!;
    const { lines, timings } = recognition;
    drawOcrBoxes(canvas, image, lines, recognition.size);
    linesList.innerHTML = lines
      .map(
        (line, i) =>
          `<li tabindex="0" data-index="${i}"><span class="line-text">${escapeHtml(line.text)}</span> <span class="score" title="confidence">${Math.round(line.score * 100)}%</span></li>`,
      )
      .join('');
    status.textContent = lines.length
      ? `Found ${lines.length} line${lines.length === 1 ? '' : 's'} of text.`
      : 'No text found in this image.';
    const timingsLine = $('ocr-timings');
    timingsLine.textContent =
      `Detect ${formatMs(timings.detectMs)} · direction ${formatMs(timings.classifyMs)} · ` +
      `recognise ${formatMs(timings.recognizeMs)} (${recognition.recBatchSize === 1 ? 'line by line' : `batches of ${recognition.recBatchSize}`}${recognition.recParallel ? ', on every core' : ''}) · ` +
      `total ${formatMs(timings.totalMs)} in the worker (${formatMs(roundTripMs)} round trip)`;
    // The same figures, unformatted, for scripts (the OCR bench reads them).
    Object.assign(timingsLine.dataset, {
      detectMs: String(timings.detectMs),
      classifyMs: String(timings.classifyMs),
      recognizeMs: String(timings.recognizeMs),
      totalMs: String(timings.totalMs),
      roundTripMs: String(roundTripMs),
      recBatchSize: String(recognition.recBatchSize),
      recParallel: String(recognition.recParallel),
    });
    copy.disabled = lines.length === 0;
    result.dataset.state = 'done';
  }

  function highlight(event: Event): void {
    const li = (event.target as HTMLElement).closest<HTMLElement>('li[data-index]');
    if (shown) drawOcrBoxes(canvas, shown.image, shown.recognition.lines, shown.recognition.size, li ? Number(li.dataset.index) : -1);
  }
  linesList.addEventListener('mouseover', highlight);
  linesList.addEventListener('focusin', highlight);
  linesList.addEventListener('mouseleave', highlight);
  linesList.addEventListener('focusout', highlight);

  copy.addEventListener('click', async () => {
    const text = shown?.recognition.lines.map((l) => l.text).join('\n') ?? '';
    try {
      await navigator.clipboard.writeText(text);
      $('ocr-copied').textContent = 'Copied.';
    } catch {
      // No clipboard permission (or an insecure context): select the text so Ctrl+C works.
      getSelection()?.selectAllChildren(linesList);
      $('ocr-copied').textContent = 'Select and copy the text with Ctrl+C.';
    }
    setTimeout(() => ($('ocr-copied').textContent = ''), 3000);
  });

  acceptFiles({
    target: panel,
    dropZone: $('ocr-drop'),
    input: $<HTMLInputElement>('ocr-file'),
    pick: imageFromTransfer,
    onFile: (file) => void read(file, file.name),
    onRejected: () => showError(errorRegion, new OnDeviceError('INVALID_INPUT', 'Drop an image file (PNG, JPEG, WebP…)')),
  });
  $('ocr-sample').addEventListener('click', async () => {
    try {
      await read(await fetchSample(SAMPLE_URL, 'the sample image'), 'the sample receipt');
    } catch (error) {
      showError(errorRegion, error);
    }
  });
  document.addEventListener('paste', (event) => {
    if (panel.hidden) return;
    const file = imageFromTransfer(event.clipboardData);
    if (!file) return;
    event.preventDefault();
    void read(file, 'the pasted image');
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
