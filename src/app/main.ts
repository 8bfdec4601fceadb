import { configure, fetchRegistry, loadModel, OnDeviceError, type Feeds, type Model, type RegistryEntry } from '../index';
import { sampleFeeds } from '../runtime/sampleFeeds';

configure({ baseUrl: new URL('/', location.href).href });

const app = document.querySelector<HTMLElement>('#app')!;
app.innerHTML = `
  <h1>ondevice <span class="badge" id="status">idle</span></h1>
  <div class="row">
    <label for="model">Model</label>
    <select id="model" aria-label="Model"></select>
    <label for="backend">Backend</label>
    <select id="backend"><option value="auto">auto</option><option value="webgpu">webgpu</option><option value="wasm">wasm</option></select>
    <button id="load">Load</button>
    <button id="run" disabled>Run on sample input</button>
  </div>
  <progress id="progress" max="1" value="0" aria-label="Download progress"></progress>
  <p id="backend-info" role="status"></p>
  <div id="error" class="error" role="alert"></div>
  <h2>Output</h2>
  <table id="outputs"><tbody></tbody></table>
  <pre id="timings"></pre>
`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const select = $<HTMLSelectElement>('model');
let registry: RegistryEntry[] = [];
let model: Model | undefined;

function showError(error: unknown) {
  const e = error as OnDeviceError;
  $('error').textContent = e instanceof OnDeviceError ? `${e.code}: ${e.message}` : String(error);
}

async function init() {
  try {
    registry = await fetchRegistry();
    select.innerHTML = registry.map((e) => `<option value="${e.id}">${e.id} (${(e.bytes / 1e6).toFixed(1)} MB)</option>`).join('');
  } catch (error) {
    showError(error);
  }
}

$('load').addEventListener('click', async () => {
  $('error').textContent = '';
  model?.dispose();
  model = undefined;
  $<HTMLButtonElement>('run').disabled = true;
  $('status').textContent = 'loading';
  const progress = $<HTMLProgressElement>('progress');
  try {
    const entry = registry.find((e) => e.id === select.value)!;
    model = await loadModel(entry, {
      backend: $<HTMLSelectElement>('backend').value as 'auto',
      onProgress: ({ loaded, total }) => (progress.value = total ? loaded / total : 0),
    });
    progress.value = 1;
    $('status').textContent = 'ready';
    $('backend-info').innerHTML =
      `Running on <span class="badge ${model.backend}">${model.backend}</span>` +
      (model.fallbackReason ? ` — not WebGPU because: ${model.fallbackReason}` : '') +
      ` · ${model.info.threads} thread(s) · load ${Math.round(model.info.timings.fetchMs)} ms fetch, ${Math.round(model.info.timings.sessionMs)} ms session, ${Math.round(model.info.timings.warmupMs)} ms warm-up`;
    $<HTMLButtonElement>('run').disabled = false;
  } catch (error) {
    $('status').textContent = 'error';
    showError(error);
  }
});

$('run').addEventListener('click', async () => {
  if (!model) return;
  $('error').textContent = '';
  const entry = registry.find((e) => e.id === model!.id);
  const feeds: Feeds = sampleFeeds(model.inputs, entry?.sample);
  const t0 = performance.now();
  try {
    const out = await model.run(feeds);
    const ms = performance.now() - t0;
    $('outputs').querySelector('tbody')!.innerHTML = Object.entries(out)
      .map(([name, t]) => {
        const values = Array.from(t.data as ArrayLike<number | bigint>)
          .slice(0, 6)
          .map((v) => (typeof v === 'number' ? v.toFixed(4) : String(v)));
        return `<tr><th>${name}</th><td>${t.type} [${t.dims.join('×')}]</td><td>${values.join(', ')}…</td></tr>`;
      })
      .join('');
    $('timings').textContent = `run: ${ms.toFixed(1)} ms (round trip through the worker)`;
  } catch (error) {
    showError(error);
  }
});

void init();
