import { fetchRegistry, loadModel, modelStore, type BackendPreference, type Feeds, type Model, type RegistryEntry } from '../index';
import { clearError, showError } from './describeError';
import { escapeHtml, formatBytes, formatMs } from './format';
import { generateFeeds } from './generateFeeds';

/**
 * Load any model of the registry on a chosen backend and run it on generated input. (The offline
 * tests drive this form: keep its ids.)
 */
export function createRegistryRunner(section: HTMLElement, onStored: () => void): { onOpen(): void } {
  section.innerHTML = `
    <h3>Models from the registry <span class="badge" id="status">idle</span></h3>
    <div class="row">
      <label for="model">Model</label>
      <select id="model"></select>
      <label for="backend">Backend</label>
      <select id="backend"><option value="auto">auto</option><option value="webgpu">webgpu</option><option value="wasm">wasm</option></select>
      <button type="button" id="load">Load</button>
      <button type="button" id="run" disabled>Run on sample input</button>
    </div>
    <progress id="progress" max="1" value="0" aria-label="Download progress"></progress>
    <p id="backend-info" role="status"></p>
    <div id="error" class="error" role="alert" hidden></div>
    <div class="table-scroll"><table id="outputs"><caption>Output</caption><tbody></tbody></table></div>
    <p id="timings" class="timings"></p>`;
  const $ = <T extends HTMLElement>(id: string) => section.querySelector<T>(`#${id}`)!;
  const select = $<HTMLSelectElement>('model');
  const errorRegion = $('error');
  let registry: RegistryEntry[] = [];
  let model: Model | undefined;
  let listed: Promise<void> | undefined;

  function list(): Promise<void> {
    listed ??= fetchRegistry().then(
      (entries) => {
        registry = entries;
        select.innerHTML = entries
          .map((e) => `<option value="${escapeHtml(e.id)}">${escapeHtml(e.id)} (${formatBytes(e.bytes)})</option>`)
          .join('');
      },
      (error: unknown) => {
        listed = undefined;
        showError(errorRegion, error);
      },
    );
    return listed;
  }

  $('load').addEventListener('click', async () => {
    clearError(errorRegion);
    model?.dispose();
    model = undefined;
    $<HTMLButtonElement>('run').disabled = true;
    $('status').textContent = 'loading';
    const progress = $<HTMLProgressElement>('progress');
    progress.value = 0;
    try {
      const entry = registry.find((e) => e.id === select.value);
      if (!entry) throw new Error('Pick a model first');
      model = await loadModel(entry, {
        backend: $<HTMLSelectElement>('backend').value as BackendPreference,
        onProgress: ({ loaded, total }) => (progress.value = total ? loaded / total : 0),
      });
      progress.value = 1;
      $('status').textContent = 'ready';
      onStored();
      void modelStore.persist().catch(() => undefined);
      const { info } = model;
      $('backend-info').innerHTML =
        (info.fromCache ? 'From the device store · ' : '') +
        (info.storeWarning ? `Not stored: ${escapeHtml(info.storeWarning.message)} · ` : '') +
        `Running on <span class="badge ${model.backend}">${model.backend}</span>` +
        (model.fallbackReason ? ` — not WebGPU because: ${escapeHtml(model.fallbackReason)}` : '') +
        ` · ${info.threads} thread(s)${info.threadsReason ? ` (${escapeHtml(info.threadsReason)})` : ''}` +
        ` · load ${formatMs(info.timings.fetchMs)} fetch, ${formatMs(info.timings.sessionMs)} session, ${formatMs(info.timings.warmupMs)} warm-up`;
      $<HTMLButtonElement>('run').disabled = false;
    } catch (error) {
      $('status').textContent = 'error';
      showError(errorRegion, error);
    }
  });

  $('run').addEventListener('click', async () => {
    if (!model) return;
    clearError(errorRegion);
    const entry = registry.find((e) => e.id === model!.id);
    const feeds: Feeds = generateFeeds(model.inputs, entry?.sample);
    const t0 = performance.now();
    try {
      const out = await model.run(feeds);
      const ms = performance.now() - t0;
      $('outputs').querySelector('tbody')!.innerHTML = Object.entries(out)
        .map(([name, t]) => {
          const values = Array.from(t.data as ArrayLike<number | bigint>)
            .slice(0, 6)
            .map((v) => (typeof v === 'number' ? v.toFixed(4) : String(v)));
          return `<tr><th>${escapeHtml(name)}</th><td>${t.type} [${t.dims.join('×')}]</td><td>${values.join(', ')}…</td></tr>`;
        })
        .join('');
      $('timings').textContent = `run: ${formatMs(ms)} (round trip through the worker)`;
    } catch (error) {
      showError(errorRegion, error);
    }
  });

  return { onOpen: () => void list() };
}
