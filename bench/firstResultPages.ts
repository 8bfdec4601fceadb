// The blank pages bench/firstResult.ts navigates to (written into a fixtures folder the app server serves at
// /fixtures/). Each starts work from its own <head> script, so navigation → first result has no driver in it, and
// leaves `window.__result` (a promise) for the driver to read. Query: `model` (URL), `recipe` (inputs), `mode`.
//   ondevice.html  ondevice's classic script with default options (`loadModel(url)`), then one call.
//   bare.html      the floor: onnxruntime-web's lean WASM bundle on the main thread, the same wasm file and threads,
//                  model bytes from Cache Storage once stored; its runtime started on a one-node model first
//                  (what ondevice's worker does), then the session and one run. Nothing else.
//   naive.html     what tutorials show: the combined bundle on the main thread, `InferenceSession.create(url)`, run.
// mode=first10 (ondevice, naive): after the load the page waits 200 ms (its own work), then makes 10 calls and 20 more.

/** Deterministic inputs per recipe, shared by every page (stringified into them). */
export const RECIPES = {
  det: [{ name: 'x', type: 'float32', dims: [1, 3, 320, 320] }],
  vad: [
    { name: 'input', type: 'float32', dims: [1, 576] },
    { name: 'state', type: 'float32', dims: [2, 1, 128], zero: true },
    { name: 'sr', type: 'int64', dims: [] },
  ],
  tiny: [{ name: 'x', type: 'float32', dims: [1, 16] }],
} as const;

export type RecipeName = keyof typeof RECIPES;

const COMMON = `const params = new URLSearchParams(location.search);
const RECIPES = ${JSON.stringify(RECIPES)};
const recipe = RECIPES[params.get('recipe')];
const mode = params.get('mode') ?? 'first-result';
function inputs(make) {
  return Object.fromEntries(recipe.map((r) => {
    const size = r.dims.reduce((a, b) => a * b, 1);
    if (r.type === 'int64') return [r.name, make('int64', BigInt64Array.of(16000n), r.dims)];
    const data = new Float32Array(size);
    if (!r.zero) for (let i = 0; i < size; i++) data[i] = 0.5 * Math.sin(i * 0.013) + 0.25 * Math.sin(i * 0.29);
    return [r.name, make('float32', data, r.dims)];
  }));
}
async function first10(call) {
  await new Promise((r) => setTimeout(r, 200));
  const times = [];
  for (let i = 0; i < 30; i++) { const s = performance.now(); await call(); times.push(performance.now() - s); }
  return times;
}`;

const ONDEVICE = `<!doctype html><html><head><meta charset="utf-8"><title>ondevice</title>
<script>
// Long tasks on this page's main thread (the worker's are not its): buffered, so those before this line count too.
const longTasks = [];
new PerformanceObserver((list) => longTasks.push(...list.getEntries().map((e) => Math.round(e.duration)))).observe({ type: 'longtask', buffered: true });
</script>
<script src="/testing/ondevice.js"></script>
<script>
${COMMON}
window.__result = (async () => {
  const loadCalled = performance.now();
  const model = await OnDevice.loadModel(params.get('model'));
  const loaded = performance.now();
  const call = () => model.run(inputs((type, data, dims) => ({ type, data, dims })));
  if (mode === 'first10') {
    let warmedUp;
    model.addEventListener('warmedup', (e) => (warmedUp = { at: performance.now() - loaded, ...e.detail }), { once: true });
    let calls = 0;
    const times = await first10(() => {
      warmedUp ??= { at: null, notYetAtCall: calls };
      calls++;
      return call();
    });
    return { times, warmedUp };
  }
  await call();
  const firstResult = performance.now();
  window.__model = model;
  window.__warmedUp = new Promise((resolve) => (model.info.warmedUp ? resolve() : model.addEventListener('warmedup', () => resolve(), { once: true })));
  return { loadCalled, loaded, firstResult, longTasks: [...longTasks], info: JSON.parse(JSON.stringify(model.info)), timelines: await OnDevice.__testing.startupTimelines() };
})();
</script></head><body></body></html>`;

const BARE = `<!doctype html><html><head><meta charset="utf-8"><title>bare</title>
<script type="module">
${COMMON}
const T = {};
const mark = (name) => (T[name] = performance.now());
window.__result = (async () => {
  mark('script');
  const streaming = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (source, imports) => {
    const response = await source;
    mark('wasmFetched');
    const module = await WebAssembly.compileStreaming(response);
    mark('wasmCompiled');
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
  const ort = await import('/fixtures/ort/ort.wasm.min.mjs');
  mark('ortImported');
  ort.env.wasm.wasmPaths = new URL('/fixtures/ort/', location.href).href;
  ort.env.wasm.numThreads = Number(params.get('threads') ?? 1);
  ort.env.wasm.proxy = false;
  const identity = Uint8Array.from(atob('${'CAgSCG9uZGV2aWNlGgExOkMKHAoBeBIBeRoKSWRlbnRpdHlfMCIISWRlbnRpdHkSAXdaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN'}'), (c) => c.charCodeAt(0));
  const started = ort.InferenceSession.create(identity, { executionProviders: ['wasm'] }).then((s) => (mark('wasmReady'), s.release()));
  mark('bytesStart');
  const cache = await caches.open('bare');
  let response = await cache.match(params.get('model'));
  if (!response) {
    await cache.put(params.get('model'), await fetch(params.get('model')));
    response = await cache.match(params.get('model'));
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  mark('bytesReady');
  await started;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  mark('sessionReady');
  await session.run(inputs((type, data, dims) => new ort.Tensor(type, data, dims)));
  mark('firstResult');
  WebAssembly.instantiateStreaming = streaming;
  return { marks: T, resources: performance.getEntriesByType('resource').map((r) => ({ name: r.name, startTime: r.startTime, responseEnd: r.responseEnd })) };
})();
</script></head><body></body></html>`;

const NAIVE = `<!doctype html><html><head><meta charset="utf-8"><title>naive</title>
<script type="module">
${COMMON}
window.__result = (async () => {
  const ort = await import('/fixtures/ort/ort.all.bundle.min.mjs');
  const session = await ort.InferenceSession.create(params.get('model'));
  const call = () => session.run(inputs((type, data, dims) => new ort.Tensor(type, data, dims)));
  if (mode === 'first10') return { times: await first10(call) };
  await call();
  return { firstResult: performance.now() };
})();
</script></head><body></body></html>`;

/** File name → contents, written into the fixtures folder next to a copy of onnxruntime-web's dist files. */
export const PAGES = { 'ondevice.html': ONDEVICE, 'bare.html': BARE, 'naive.html': NAIVE } as const;
