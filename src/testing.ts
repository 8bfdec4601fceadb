// The test-only entry (dist/testing/ondevice.js; never part of the package's API): the classic-script
// build plus `window.OnDevice.__testing`, hooks our real-browser tests use to see inside. It is one bundle
// with the real library, so the hooks see the same module state (worker pool, telemetry clients) as the
// `loadModel` on the page. Its workers are the test-only worker (src/runtime/testingWorker.ts), which adds
// hooks the production worker does not have (destroying the GPU device).
import { configure, getConfig } from './client/configure';
import type { Model } from './client/Model';
import { liveWorkers, useWorkerFile, workerCount } from './client/workerPool';
import type { RuntimeTestingApi } from './runtime/RuntimeTestingApi';
import { startupTimeline } from './core/startupTimeline';
import { installGlobals } from './embed/installGlobals';
import { activeTelemetry } from './telemetry/telemetryClient';
import { onLifecycle } from './core/lifecycle';

// Time each run took inside its worker (the session's run and the outputs' copy), newest last; the
// benchmark subtracts it from the page's wall time to get the worker round trip.
const workerRunMs: number[] = [];
onLifecycle((event) => {
  if (event.type !== 'inference') return;
  workerRunMs.push(event.ms);
  if (workerRunMs.length > 1000) workerRunMs.shift();
});

function testingCall<T>(model: Model, fn: (api: RuntimeTestingApi, key: string) => Promise<T>): Promise<T> {
  const { handle, key } = model.workerBinding;
  return handle.call((api) => fn(api as RuntimeTestingApi, key));
}

export const testing = {
  workerCount,
  /** Session ids of the page's telemetry clients. */
  telemetrySessionIds: () => activeTelemetry().map((t) => t.sessionId),
  /** Calls sent to the model's worker and not yet answered (a run "in flight"). */
  pendingCalls: (model: Model) => model.workerBinding.handle.pendingCalls,
  /** The id of the worker hosting a model (changes when the model moves to another worker). */
  workerId: (model: Model) => model.workerBinding.handle.id,
  /** Kill the worker hosting a model, as a crash would. */
  killWorker(model: Model): void {
    model.workerBinding.handle.terminate('the worker was killed');
  },
  /** Destroy the WebGPU device of the model's worker, as a driver reset would. */
  loseDevice: (model: Model) => testingCall(model, (api) => api.destroyDevice()),
  /** Device-loss callbacks registered in the model's worker. */
  deviceLostCallbackCount: (model: Model) => testingCall(model, (api) => api.deviceLostCallbackCount()),
  /** Whether the model's session is warm, and how many background warm-up runs it got. */
  warmupOf: (model: Model) => testingCall(model, (api, key) => api.warmupOf(key)),
  /** Calls of `run` the model's worker answered for it. */
  runsOf: (model: Model) => testingCall(model, (api, key) => api.runsOf(key)),
  memory: (model: Model) => testingCall(model, (api) => api.memory()),
  /** Milliseconds each device run took inside its worker, newest last (at most the last 1000). */
  workerRunMs: () => [...workerRunMs],
  /** Per live worker (a model need not be loaded yet): whether onnxruntime's wasm runtime is up. */
  runtimeReady: () => Promise.all(liveWorkers().map((h) => h.call((api) => (api as RuntimeTestingApi).runtimeReady()))),
  /** Whether the model's worker instantiated onnxruntime's wasm from the module this page compiled. */
  runtimeFromPage: (model: Model) => testingCall(model, (api) => api.runtimeFromPage()),
  /** The page's and each live worker's start-up marks and resource timings (bench/warmStart.ts lines them up). */
  startupTimelines: async () => ({
    page: startupTimeline(),
    workers: await Promise.all(liveWorkers().map((h) => h.call((api) => (api as RuntimeTestingApi).startupTimeline()))),
  }),
};

installGlobals({ __testing: testing });
// installGlobals set the base URL to this script's folder (dist/testing/); the library lives one up.
configure({ baseUrl: new URL('../', getConfig().baseUrl).href });
useWorkerFile('testing/ondevice-worker.mjs');
