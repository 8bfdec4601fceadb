import type { BackendPreference } from '../index';
import { clearError, showError } from './describeError';
import { escapeHtml, formatBytes, formatMs } from './format';
import { pipelineClient } from './createPipelineClient';
import type { ModelProgress, ModelSummary, Task } from './pipelineProtocol';

export interface ModelPanel {
  element: HTMLElement;
  /** The task's models, loading them on first use (or after a backend change). */
  ensureLoaded(): Promise<ModelSummary[]>;
}

const BACKENDS: [BackendPreference, string][] = [
  ['auto', 'auto (WebGPU if it works, else WASM)'],
  ['webgpu', 'WebGPU'],
  ['wasm', 'WASM (CPU)'],
];

/**
 * The models of one demo task: a backend picker, a progress bar per model while downloading, then a
 * backend badge per model with the fallback and thread reasons and load timings.
 */
export function createModelPanel(options: {
  task: Task;
  prefix: string;
  defaultBackend: BackendPreference;
  hint?: string;
  errorRegion: HTMLElement;
  /** The models loaded (they are in the device store now). */
  onLoaded?: () => void;
}): ModelPanel {
  const { task, prefix } = options;
  const element = document.createElement('div');
  element.className = 'model-panel';
  element.innerHTML = `
    <div class="row">
      <label for="${prefix}-backend">Backend</label>
      <select id="${prefix}-backend">${BACKENDS.map(([v, l]) => `<option value="${v}"${v === options.defaultBackend ? ' selected' : ''}>${l}</option>`).join('')}</select>
      <span class="badge" id="${prefix}-models-state" role="status">models load when you use this tab</span>
    </div>
    ${options.hint ? `<p class="hint">${options.hint}</p>` : ''}
    <ul class="model-list" id="${prefix}-models" aria-label="Models"></ul>
    <p class="model-reasons" id="${prefix}-reasons"></p>`;
  const select = element.querySelector('select')!;
  const state = element.querySelector<HTMLElement>(`#${prefix}-models-state`)!;
  const list = element.querySelector<HTMLElement>('ul')!;
  const reasons = element.querySelector<HTMLElement>(`#${prefix}-reasons`)!;
  let loading: Promise<ModelSummary[]> | undefined;

  function row(modelId: string): HTMLElement {
    let li = list.querySelector<HTMLElement>(`li[data-model="${CSS.escape(modelId)}"]`);
    if (!li) {
      li = document.createElement('li');
      li.dataset.model = modelId;
      li.innerHTML = `<span class="model-name">${escapeHtml(modelId)}</span>
        <progress max="1" value="0" aria-label="${escapeHtml(modelId)} download progress"></progress>
        <span class="model-meta"></span>`;
      list.append(li);
    }
    return li;
  }

  function onProgress({ modelId, loaded, total, fromCache }: ModelProgress): void {
    const li = row(modelId);
    li.querySelector('progress')!.value = total ? loaded / total : 0;
    li.querySelector('.model-meta')!.textContent = fromCache
      ? 'reading from this device…'
      : `${formatBytes(loaded)} of ${formatBytes(total)}`;
  }

  function render(summaries: ModelSummary[]): void {
    // A reason every model shares (no WebGPU adapter, no isolation) is said once, under the list.
    const shared = (pick: (s: ModelSummary) => string | undefined) => {
      const values = new Set(summaries.map(pick));
      return values.size === 1 ? [...values][0] : undefined;
    };
    const sharedFallback = shared((s) => s.fallbackReason);
    const sharedThreads = shared((s) => s.threadsReason);
    const describe = (s: ModelSummary) =>
      [
        s.fallbackReason && s.fallbackReason !== sharedFallback ? `Not on WebGPU because: ${s.fallbackReason}` : '',
        s.threadsReason && s.threadsReason !== sharedThreads ? `WASM ${s.threadsReason}` : '',
        s.storeWarning ? `Not stored for offline use: ${s.storeWarning}` : '',
      ].filter(Boolean);
    for (const s of summaries) {
      const li = row(s.id);
      li.querySelector('progress')!.value = 1;
      li.querySelector('.model-meta')!.innerHTML =
        `<span class="badge ${s.backend}" title="Runs on ${s.backend}">${s.backend}</span> ` +
        `${formatBytes(s.bytes)} ${s.fromCache ? 'from this device' : 'downloaded'} · ${s.threads} thread${s.threads === 1 ? '' : 's'} · ` +
        `load ${formatMs(s.loadMs.fetch)} + session ${formatMs(s.loadMs.session)} + warm-up ${formatMs(s.loadMs.warmup)}` +
        describe(s)
          .map((r) => `<span class="reason">${escapeHtml(r)}</span>`)
          .join('');
    }
    reasons.innerHTML = [sharedFallback ? `Not on WebGPU because: ${sharedFallback}` : '', sharedThreads ? `WASM ${sharedThreads}` : '']
      .filter(Boolean)
      .map((r) => `<span class="reason">${escapeHtml(r)}</span>`)
      .join('');
  }

  function load(): Promise<ModelSummary[]> {
    clearError(options.errorRegion);
    list.replaceChildren();
    reasons.replaceChildren();
    state.textContent = 'loading models…';
    state.className = 'badge loading';
    element.setAttribute('aria-busy', 'true');
    const attempt = pipelineClient().prepare(task, select.value as BackendPreference, onProgress);
    loading = attempt;
    attempt.then(
      (summaries) => {
        if (loading !== attempt) return;
        render(summaries);
        const backends = [...new Set(summaries.map((s) => s.backend))];
        state.textContent = `ready · ${backends.join(' + ')}`;
        state.className = `badge ready ${backends.length === 1 ? backends[0] : ''}`;
        element.removeAttribute('aria-busy');
        options.onLoaded?.();
      },
      (error: unknown) => {
        if (loading !== attempt) return;
        loading = undefined; // the next use tries again
        state.textContent = 'models failed to load';
        state.className = 'badge failed';
        element.removeAttribute('aria-busy');
        showError(options.errorRegion, error);
      },
    );
    return attempt;
  }

  select.addEventListener('change', () => void load().catch(() => undefined));
  return { element, ensureLoaded: () => loading ?? load() };
}
