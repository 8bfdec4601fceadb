/// <reference lib="webworker" />
// The runtime worker (dist/ondevice-worker.mjs): the only place onnxruntime-web is ever loaded.
import * as Comlink from 'comlink';
import { runtimeApi } from './runtimeApi';
import { trackWasmMemory } from './trackWasmMemory';

trackWasmMemory();
Comlink.expose(runtimeApi);
