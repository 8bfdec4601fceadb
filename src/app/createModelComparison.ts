import {
  loadModel,
  OnDeviceError,
  type Backend,
  type Feeds,
  type Model,
  type ModelReference,
  type RegistryEntry,
  type TensorSpec,
} from '../index';
import { clearError, describeError, showError } from './describeError';
import { escapeHtml, formatBytes, formatMs } from './format';
import { acceptFiles } from './acceptFiles';
import { generateFeeds } from './generateFeeds';

const TIMED_RUNS = 5;
const BACKENDS: Backend[] = ['wasm', 'webgpu'];

export interface LocalModelFile {
  name: string;
  url: string;
  bytes: number;
  sha256?: string;
  /** Read it from the device's model store (a model kept earlier; its blob: URL is long gone). */
  fromStore?: boolean;
}

interface Dropped extends LocalModelFile {
  source: ModelReference;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

interface BackendRun {
  backend: Backend;
  loadMs: number;
  firstRunMs: number;
  medianRunMs: number;
  outputs: Feeds;
}

/** A registry-like entry for a dropped file: content-addressed, so the model store can keep it offline. */
export function entryForLocalModel(model: { name: string; url: string; bytes: number; sha256: string }): RegistryEntry {
  return { id: `local:${model.name}`, version: 'local', file: model.url, sha256: model.sha256, bytes: model.bytes } as RegistryEntry;
}

/**
 * Hex SHA-256 of a dropped file, which keys it in the model store; undefined where WebCrypto is missing
 * (crypto.subtle needs https or localhost).
 */
async function sha256Of(bytes: ArrayBuffer): Promise<string | undefined> {
  if (!globalThis.crypto?.subtle) return undefined;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Drop any .onnx: its inputs and outputs are listed, then it runs with generated inputs on WASM and on
 * WebGPU and the timings are shown side by side; it can be kept in the device's model store.
 */
export function createModelComparison(section: HTMLElement, onStored: () => void): { open(model: LocalModelFile): Promise<void> } {
  section.innerHTML = `
    <h3>Your own model</h3>
    <div id="pg-error" class="error" role="alert" hidden></div>
    <div class="dropzone" id="pg-drop">
      <p>Drop an <code>.onnx</code> file here, or</p>
      <div class="row">
        <label class="button" for="pg-file">Choose a model…</label>
        <input type="file" id="pg-file" accept=".onnx,.ort,application/octet-stream" class="visually-hidden" />
      </div>
      <p class="hint">It stays on this device: nothing is uploaded.</p>
    </div>
    <p id="pg-status" role="status" class="status"></p>
    <div id="pg-model" hidden>
      <div class="table-scroll"><table id="pg-io"><caption>Inputs and outputs</caption>
        <thead><tr><th scope="col"></th><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Shape</th></tr></thead><tbody></tbody></table></div>
      <fieldset id="pg-dims" hidden><legend>Sizes for symbolic dimensions</legend><div class="row"></div></fieldset>
      <div class="row">
        <button type="button" id="pg-run">Run on WASM and WebGPU</button>
        <button type="button" id="pg-store" class="secondary">Keep on this device</button>
      </div>
      <div class="table-scroll"><table id="pg-compare"><caption>Timings with generated inputs</caption>
        <thead><tr><th scope="col"></th><th scope="col">WASM</th><th scope="col">WebGPU</th></tr></thead><tbody></tbody></table></div>
    </div>`;
  const $ = <T extends HTMLElement>(id: string) => section.querySelector<T>(`#${id}`)!;
  const errorRegion = $('pg-error');
  const status = $('pg-status');
  let dropped: Dropped | undefined;

  function symbolicDims(inputs: TensorSpec[]): string[] {
    return [...new Set(inputs.flatMap((i) => i.shape.filter((d): d is string => typeof d === 'string')))];
  }

  async function open(file: LocalModelFile): Promise<void> {
    clearError(errorRegion);
    $('pg-model').hidden = true;
    status.textContent = `Opening ${file.name}…`;
    let model: Model | undefined;
    try {
      const source = file.sha256 ? entryForLocalModel({ ...file, sha256: file.sha256 }) : file.url;
      // A dropped file is not stored unless asked ("Keep on this device"); a kept one is read from the store.
      model = await loadModel(source, { backend: 'wasm', warmup: false, cache: !!file.fromStore, sha256: file.sha256 });
      dropped = { ...file, source, inputs: model.inputs, outputs: model.outputs };
    } catch (error) {
      status.textContent = '';
      showError(errorRegion, error);
      return;
    } finally {
      model?.dispose();
    }
    const rows = (kind: string, specs: TensorSpec[]) =>
      specs
        .map(
          (s) =>
            `<tr><th scope="row">${kind}</th><td>${escapeHtml(s.name)}</td><td>${s.type}</td><td>[${s.shape.map((d) => escapeHtml(String(d || '?'))).join(', ')}]</td></tr>`,
        )
        .join('');
    $('pg-io').querySelector('tbody')!.innerHTML = rows('input', dropped.inputs) + rows('output', dropped.outputs);
    const dims = symbolicDims(dropped.inputs);
    $('pg-dims').hidden = dims.length === 0;
    $('pg-dims').querySelector('.row')!.innerHTML = dims
      .map(
        (d, i) =>
          `<label for="pg-dim-${i}">${escapeHtml(d || '(unnamed)')}</label><input type="number" id="pg-dim-${i}" data-dim="${escapeHtml(d)}" min="1" value="1" inputmode="numeric" />`,
      )
      .join('');
    $('pg-compare').querySelector('tbody')!.innerHTML = '';
    $('pg-model').hidden = false;
    status.textContent = `${file.name}: ${formatBytes(file.bytes)}, ${dropped.inputs.length} input(s), ${dropped.outputs.length} output(s).`;
  }

  function feedsFor(inputs: TensorSpec[]): Feeds {
    const sizes = new Map<string, number>();
    section
      .querySelectorAll<HTMLInputElement>('#pg-dims input')
      .forEach((input) => sizes.set(input.dataset.dim!, Math.max(1, Number(input.value) || 1)));
    const dims = Object.fromEntries(
      inputs.map((i) => [i.name, i.shape.map((d) => (typeof d === 'number' && d > 0 ? d : (sizes.get(String(d)) ?? 1)))]),
    );
    return generateFeeds(inputs, { dims });
  }

  async function runOn(backend: Backend, model: Dropped): Promise<BackendRun> {
    const t0 = performance.now();
    const loaded = await loadModel(model.source, { backend, warmup: false, cache: !!model.fromStore, sha256: model.sha256 });
    try {
      const loadMs = performance.now() - t0;
      const feeds = feedsFor(model.inputs);
      const t1 = performance.now();
      const outputs = await loaded.run(feeds, { transfer: false });
      const firstRunMs = performance.now() - t1;
      const times: number[] = [];
      for (let i = 0; i < TIMED_RUNS; i++) {
        const t = performance.now();
        await loaded.run(feeds, { transfer: false });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      return { backend, loadMs, firstRunMs, medianRunMs: times[Math.floor(times.length / 2)], outputs };
    } finally {
      loaded.dispose();
    }
  }

  function maxDifference(a: Feeds, b: Feeds): number | undefined {
    let max = 0;
    for (const [name, t] of Object.entries(a)) {
      const other = b[name]?.data;
      if (!other || typeof (t.data as ArrayLike<unknown>)[0] !== 'number' || t.type === 'float16') return undefined;
      const x = t.data as ArrayLike<number>;
      const y = other as ArrayLike<number>;
      for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }

  $('pg-run').addEventListener('click', async () => {
    if (!dropped) return;
    clearError(errorRegion);
    const button = $<HTMLButtonElement>('pg-run');
    button.disabled = true;
    const body = $('pg-compare').querySelector('tbody')!;
    body.innerHTML = `<tr><td colspan="3">Running…</td></tr>`;
    $('pg-compare').setAttribute('aria-busy', 'true');
    const results: (BackendRun | { backend: Backend; error: unknown })[] = [];
    for (const backend of BACKENDS) {
      status.textContent = `Running on ${backend === 'wasm' ? 'WASM' : 'WebGPU'}…`;
      results.push(await runOn(backend, dropped).catch((error: unknown) => ({ backend, error })));
    }
    const cell = (r: (typeof results)[number], pick: (run: BackendRun) => string) => {
      if ('error' in r) return `<td class="unavailable">—</td>`;
      return `<td>${pick(r)}</td>`;
    };
    const [wasm, webgpu] = results;
    const difference = !('error' in wasm) && !('error' in webgpu) ? maxDifference(wasm.outputs, webgpu.outputs) : undefined;
    const firstOutput = (r: BackendRun) => {
      const [name, t] = Object.entries(r.outputs)[0] ?? [];
      return name ? `${escapeHtml(name)} [${t.dims.join('×')}]` : '';
    };
    body.innerHTML =
      `<tr><th scope="row">Load (fetch + session)</th>${cell(wasm, (r) => formatMs(r.loadMs))}${cell(webgpu, (r) => formatMs(r.loadMs))}</tr>` +
      `<tr><th scope="row">First run</th>${cell(wasm, (r) => formatMs(r.firstRunMs))}${cell(webgpu, (r) => formatMs(r.firstRunMs))}</tr>` +
      `<tr><th scope="row">Median of ${TIMED_RUNS} runs</th>${cell(wasm, (r) => formatMs(r.medianRunMs))}${cell(webgpu, (r) => formatMs(r.medianRunMs))}</tr>` +
      `<tr><th scope="row">Output</th>${cell(wasm, firstOutput)}${cell(webgpu, firstOutput)}</tr>` +
      (difference !== undefined
        ? `<tr><th scope="row">Largest difference</th><td colspan="2">${difference.toExponential(2)}</td></tr>`
        : '') +
      results
        .filter((r): r is { backend: Backend; error: unknown } => 'error' in r)
        .map((r) => {
          const { code, advice, message } = describeError(r.error);
          return `<tr><th scope="row">${r.backend === 'wasm' ? 'WASM' : 'WebGPU'} failed</th><td colspan="2" class="error">${escapeHtml(advice)} <span class="error-detail">${code}: ${escapeHtml(message)}</span></td></tr>`;
        })
        .join('');
    $('pg-compare').removeAttribute('aria-busy');
    $('pg-compare').dataset.state = 'done';
    status.textContent = 'Done.';
    button.disabled = false;
  });

  $('pg-store').addEventListener('click', async () => {
    if (!dropped) return;
    clearError(errorRegion);
    try {
      if (!dropped.sha256)
        throw new OnDeviceError(
          'NOT_SUPPORTED',
          'Storing needs the file’s SHA-256, which this page could not compute (crypto.subtle needs https or localhost)',
        );
      const model = await loadModel(entryForLocalModel({ ...dropped, sha256: dropped.sha256 }), {
        backend: 'wasm',
        warmup: false,
        cache: true,
      });
      const warning = model.info.storeWarning;
      model.dispose();
      if (warning) throw new OnDeviceError(warning.code, warning.message, warning.details);
      status.textContent = `${dropped.name} is kept on this device; it is listed under “Stored models”.`;
      onStored();
    } catch (error) {
      showError(errorRegion, error);
    }
  });

  async function fromFile(file: File): Promise<void> {
    if (!/\.(onnx|ort)$/i.test(file.name) && file.type !== 'application/octet-stream') {
      showError(errorRegion, new OnDeviceError('INVALID_INPUT', `${file.name} does not look like an ONNX model (.onnx)`));
      return;
    }
    const bytes = await file.arrayBuffer();
    const sha256 = await sha256Of(bytes);
    if (dropped?.url.startsWith('blob:')) URL.revokeObjectURL(dropped.url);
    await open({ name: file.name, url: URL.createObjectURL(new Blob([bytes])), bytes: bytes.byteLength, sha256 });
  }

  acceptFiles({ target: section, dropZone: $('pg-drop'), input: $<HTMLInputElement>('pg-file'), onFile: (file) => void fromFile(file) });

  return { open };
}
