import { clearLocalExamples, configure, loadModel, reportFeedback, type Model, type TelemetryConfig } from '../index';
import { clearError, showError } from './describeError';
import { inkOf, MNIST_SIDE, toMnistInput } from './digits/toMnistInput';
import { formatMs } from './format';

const MODEL_ID = 'digits';
const CANVAS_SIDE = 280;
const STROKE_WIDTH = 22;

/** What the tab shows after a drawing was classified, and what feedback refers to. */
interface Prediction {
  predictionId: string;
  top: number;
  image: Float32Array;
}

/**
 * Digits: draw a digit (mouse, touch or pen), the digits model (28×28 MNIST CNN) shows its top 3; "right" or
 * "wrong → the correct digit" reports feedback, and only when the person ticks the share box does the 28×28
 * image travel with it (telemetry `shareInputs`). With the keep box ticked (telemetry `federated`) the drawing stays in
 * this browser and the page helps train the model's last layer in idle time. The model loads when the tab is first opened.
 */
export function createDigitsTab(panel: HTMLElement, telemetry: TelemetryConfig, onModelLoaded?: () => void): { onOpen(): Promise<void> } {
  panel.innerHTML = `
    <h2>Draw a digit</h2>
    <p class="lead">A small CNN trained on MNIST reads your handwriting on this device. Tell it when it is wrong.</p>
    <div id="digits-error" class="error" role="alert" hidden></div>
    <p id="digits-model" class="status" role="status">The model loads when you open this tab.</p>
    <div class="digits">
      <div>
        <canvas id="digits-canvas" width="${CANVAS_SIDE}" height="${CANVAS_SIDE}" class="digits-canvas"
          role="img" aria-label="Drawing area: draw one digit with the mouse, a finger or a pen"></canvas>
        <div class="row">
          <button type="button" id="digits-clear" class="secondary">Clear</button>
          <span id="digits-timing" class="hint"></span>
        </div>
      </div>
      <div class="digits-result">
        <h3 id="digits-top-heading">Top 3</h3>
        <ol id="digits-top" aria-labelledby="digits-top-heading"></ol>
        <div id="digits-feedback" hidden>
          <p>Is the first guess right?</p>
          <div class="row">
            <button type="button" id="digits-right">Right</button>
            <button type="button" id="digits-wrong" class="secondary">Wrong…</button>
          </div>
          <div id="digits-correct" class="row" hidden role="group" aria-label="The correct digit">
            ${Array.from({ length: 10 }, (_, d) => `<button type="button" class="secondary digit-choice" data-digit="${d}">${d}</button>`).join('')}
          </div>
        </div>
        <p id="digits-sent" class="status" role="status"></p>
        <label class="row"><input type="checkbox" id="digits-share" /> Share this drawing to improve the model</label>
        <p class="hint">When ticked, the 28×28 image of your drawing is sent with your answer to train the next model version; otherwise only the digit you pick is sent.</p>
        <label class="row"><input type="checkbox" id="digits-federated" /> Keep my drawings here and help train the model on this device</label>
        <p class="hint">When ticked, your drawing stays in this browser; in idle time the page trains the model's last layer on your kept drawings and sends only the change of its weights, never a drawing.
          <button type="button" id="digits-forget" class="secondary">Forget my kept drawings</button></p>
      </div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => panel.querySelector<T>(`#${id}`)!;
  const canvas = $<HTMLCanvasElement>('digits-canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const errorRegion = $('digits-error');
  const modelState = $('digits-model');
  const top = $<HTMLOListElement>('digits-top');
  const feedback = $('digits-feedback');
  const correct = $('digits-correct');
  const sent = $('digits-sent');
  const share = $<HTMLInputElement>('digits-share');
  const keep = $<HTMLInputElement>('digits-federated');
  let model: Promise<Model> | undefined;
  let prediction: Prediction | undefined;
  let drawing: { pointerId: number; x: number; y: number } | undefined;
  let classifying = 0;

  // Consent is the page's telemetry setting: the same client (same queue, same session), inputs on or off.
  const consent = () => configure({ telemetry: { ...telemetry, shareInputs: share.checked, federated: keep.checked } });
  share.addEventListener('change', consent);
  keep.addEventListener('change', consent);
  $('digits-forget').addEventListener('click', () => {
    clearError(errorRegion);
    clearLocalExamples('digits').then(
      (n) => (sent.textContent = `Forgot ${n} kept drawing${n === 1 ? '' : 's'}.`),
      (e) => showError(errorRegion, e),
    );
  });

  function point(event: PointerEvent): { x: number; y: number } {
    const rect = canvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * CANVAS_SIDE) / rect.width, y: ((event.clientY - rect.top) * CANVAS_SIDE) / rect.height };
  }
  function stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    ctx.strokeStyle = '#111';
    ctx.lineWidth = STROKE_WIDTH;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
  }
  canvas.addEventListener('pointerdown', (event) => {
    if (drawing) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    const p = point(event);
    drawing = { pointerId: event.pointerId, ...p };
    stroke(p, p);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (drawing?.pointerId !== event.pointerId) return;
    // Coalesced events keep fast strokes smooth (https://w3c.github.io/pointerevents/#coalesced-events).
    for (const e of event.getCoalescedEvents?.() ?? [event]) {
      const p = point(e);
      stroke(drawing, p);
      drawing = { pointerId: event.pointerId, ...p };
    }
  });
  const end = (event: PointerEvent) => {
    if (drawing?.pointerId !== event.pointerId) return;
    drawing = undefined;
    void classify();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('digits-clear').addEventListener('click', () => {
    ctx.clearRect(0, 0, CANVAS_SIDE, CANVAS_SIDE);
    prediction = undefined;
    top.replaceChildren();
    feedback.hidden = true;
    sent.textContent = '';
  });

  function ensureModel(): Promise<Model> {
    model ??= loadModel(MODEL_ID, { backend: 'wasm' }).then(
      (m) => {
        modelState.textContent = `Model ${m.id} v${m.version} ready (${m.backend}).`;
        onModelLoaded?.();
        return m;
      },
      (e: unknown) => {
        model = undefined;
        modelState.textContent = 'The model did not load.';
        throw e;
      },
    );
    return model;
  }

  async function classify(): Promise<void> {
    const run = ++classifying;
    clearError(errorRegion);
    try {
      const image = toMnistInput(inkOf(ctx.getImageData(0, 0, CANVAS_SIDE, CANVAS_SIDE)), CANVAS_SIDE, CANVAS_SIDE);
      if (!image.some((v) => v > 0)) return;
      const m = await ensureModel();
      const started = performance.now();
      // transfer: false keeps `image` for the feedback that may share it.
      const { probabilities } = await m.run(
        { image: { type: 'float32', data: image, dims: [1, 1, MNIST_SIDE, MNIST_SIDE] } },
        { transfer: false },
      );
      if (run !== classifying) return;
      $('digits-timing').textContent = formatMs(performance.now() - started);
      const ranked = [...(probabilities.data as Float32Array)].map((p, digit) => ({ digit, p })).sort((a, b) => b.p - a.p);
      top.replaceChildren(
        ...ranked.slice(0, 3).map(({ digit, p }) => {
          const li = document.createElement('li');
          li.dataset.digit = String(digit);
          li.textContent = `${digit} — ${(p * 100).toFixed(1)} %`;
          return li;
        }),
      );
      prediction = { predictionId: m.lastPredictionId!, top: ranked[0].digit, image };
      feedback.hidden = false;
      correct.hidden = true;
      sent.textContent = '';
    } catch (e) {
      showError(errorRegion, e);
    }
  }

  async function report(label: number): Promise<void> {
    const current = prediction;
    if (!current) return;
    clearError(errorRegion);
    try {
      const m = await ensureModel();
      reportFeedback({
        modelId: m.id,
        modelVersion: m.version,
        predictionId: current.predictionId,
        label,
        predicted: current.top,
        inputs: { image: { type: 'float32', data: current.image, dims: [1, 1, MNIST_SIDE, MNIST_SIDE] } },
      });
      prediction = undefined;
      feedback.hidden = true;
      sent.textContent = share.checked
        ? `Thanks: sent “${label}” and your drawing.`
        : keep.checked
          ? `Thanks: sent “${label}”; your drawing is kept on this device for training here.`
          : `Thanks: sent “${label}” (your drawing stays here).`;
    } catch (e) {
      showError(errorRegion, e);
    }
  }
  $('digits-right').addEventListener('click', () => prediction && void report(prediction.top));
  $('digits-wrong').addEventListener('click', () => (correct.hidden = false));
  correct.addEventListener('click', (event) => {
    const digit = (event.target as HTMLElement).closest<HTMLElement>('[data-digit]')?.dataset.digit;
    if (digit !== undefined) void report(Number(digit));
  });

  return {
    async onOpen() {
      modelState.textContent = 'Loading the digits model…';
      try {
        await ensureModel();
      } catch (e) {
        showError(errorRegion, e);
      }
    },
  };
}
