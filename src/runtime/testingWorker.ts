/// <reference lib="webworker" />
// The test-only runtime worker (dist/testing/ondevice-worker.mjs, started by src/testing.ts): the
// production worker's API plus hooks that only tests may call. Production pages never load it.
import * as Comlink from 'comlink';
import type { RuntimeTestingApi } from './RuntimeTestingApi';
import { runtimeApi, runtimeInternals } from './runtimeApi';
import { trackWasmMemory } from './trackWasmMemory';
import { markStartup } from '../core/markStartup';
import { startupTimeline } from '../core/startupTimeline';

markStartup('worker');

const testingApi: RuntimeTestingApi = {
  ...runtimeApi,
  destroyDevice: runtimeInternals.destroyDevice,
  deviceLostCallbackCount: async () => runtimeInternals.deviceLostCallbackCount(),
  warmupOf: async (key) => runtimeInternals.warmupOf(key),
  runsOf: async (key) => runtimeInternals.runsOf(key),
  runtimeReady: async () => runtimeInternals.runtimeReady(),
  runtimeFromPage: async () => runtimeInternals.runtimeFromPage(),
  startupTimeline: async () => startupTimeline(),
};

trackWasmMemory();
Comlink.expose(testingApi);
