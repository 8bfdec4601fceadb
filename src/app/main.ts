// The demo PWA: OCR, voice activity, digits and a model playground, all on this device. Tabs are chosen by the
// URL hash (#ocr, #vad, #digits, #playground); each loads its models the first time it is opened, never before:
// a bare `/` shows the OCR tab but downloads nothing until the tab is opened or OCR is used, so the
// demo never competes with a model the user is loading.
import { configure } from '../index';
import { registerServiceWorker } from '../sw/registerServiceWorker';
import { createDigitsTab } from './createDigitsTab';
import { createModelComparison } from './createModelComparison';
import { createOcrTab } from './createOcrTab';
import { createRegistryRunner } from './createRegistryRunner';
import { createStoragePanel } from './createStoragePanel';
import { createTabs } from './createTabs';
import { createVadTab } from './createVadTab';
import { showError } from './describeError';
import { whenPageIdle } from './whenPageIdle';

// The demo reports to the collector that `npm start` serves on the same port (site key `demo`).
const telemetry = { endpoint: '/v1/events', siteKey: 'demo' };
configure({ baseUrl: new URL('/', location.href).href, telemetry });

const app = document.querySelector<HTMLElement>('#app')!;
app.innerHTML = `
  <header class="app-header">
    <h1>ondevice <span class="tagline">models that run in your browser</span></h1>
    <div class="header-badges">
      <span class="badge" id="network" role="status" aria-label="Network"></span>
      <span class="badge" id="isolation"></span>
    </div>
  </header>
  <div id="update"></div>
  <div id="fatal" class="error" role="alert" hidden></div>
  <nav id="tabs" class="tabs" aria-label="Demos"></nav>
  <section id="panel-ocr" class="panel"></section>
  <section id="panel-vad" class="panel"></section>
  <section id="panel-digits" class="panel"></section>
  <section id="panel-playground" class="panel">
    <h2>Playground</h2>
    <p class="lead">Run any ONNX model here, on WASM and on WebGPU, and compare.</p>
    <div id="model-comparison" class="card"></div>
    <div id="registry-runner" class="card"></div>
  </section>
  <details id="storage-panel" class="card" open></details>
  <footer class="hint">Everything runs on this device with <a href="https://onnxruntime.ai/">onnxruntime-web</a>; nothing you open here is uploaded.</footer>`;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// Never a blank page: anything that escapes a tab's own error handling is shown here.
addEventListener('error', (event) => showError($('fatal'), event.error ?? event.message));
addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  showError($('fatal'), event.reason);
});

const storage = createStoragePanel($<HTMLDetailsElement>('storage-panel'), (model) => {
  tabs.select('playground');
  void comparison.open({
    name: model.id.replace(/^local:/, ''),
    url: model.url,
    bytes: model.bytes,
    sha256: model.sha256,
    fromStore: true,
  });
});
const refreshStorage = () => void storage.refresh();

// Model loads a tab has started; the service worker's first install waits for them (see below).
const modelLoads = new Set<Promise<void>>();
function trackModelLoad(load: Promise<void>): void {
  modelLoads.add(load);
  void load.finally(() => modelLoads.delete(load));
}
const comparison = createModelComparison($('model-comparison'), refreshStorage);
const runner = createRegistryRunner($('registry-runner'), refreshStorage);
const ocr = createOcrTab($('panel-ocr'), refreshStorage);
const vad = createVadTab($('panel-vad'), refreshStorage);
const digits = createDigitsTab($('panel-digits'), telemetry, refreshStorage);
const tabs = createTabs(
  $('tabs'),
  [
    { id: 'ocr', label: 'OCR', panel: $('panel-ocr'), onOpen: () => trackModelLoad(ocr.onOpen()) },
    { id: 'vad', label: 'Voice activity', panel: $('panel-vad'), onOpen: () => trackModelLoad(vad.onOpen()) },
    { id: 'digits', label: 'Digits', panel: $('panel-digits'), onOpen: () => trackModelLoad(digits.onOpen()) },
    { id: 'playground', label: 'Playground', panel: $('panel-playground'), onOpen: () => runner.onOpen() },
  ],
  'ocr',
);

function showNetwork(): void {
  $('network').textContent = navigator.onLine ? 'online' : 'offline';
  $('network').className = `badge ${navigator.onLine ? 'online' : 'offline'}`;
}
addEventListener('online', showNetwork);
addEventListener('offline', showNetwork);
showNetwork();

$('isolation').textContent = crossOriginIsolated ? 'WASM threads' : 'single-threaded';
$('isolation').title = crossOriginIsolated
  ? 'This page is cross-origin isolated, so WASM runs multi-threaded.'
  : 'This page is not cross-origin isolated (no COOP/COEP headers), so WASM runs on one thread.';

// The service worker's first install downloads and caches the runtime (~41 MB: both backends' wasm) and
// competes for the same 2 cores and the network as the user's first model. So it starts only in idle time
// after the page has loaded, and after any model load a tab has started — never ahead of user work.
void whenPageIdle().then(async () => {
  while (modelLoads.size > 0) await Promise.allSettled([...modelLoads]);
  await registerServiceWorker({
    onUpdateAvailable(reload) {
      $('update').innerHTML =
        `<p role="alert" class="update">Update available — <button type="button" id="update-reload">Reload</button></p>`;
      $('update-reload').addEventListener('click', reload, { once: true });
    },
  });
});
refreshStorage();
