/// <reference lib="webworker" />
// The runtime worker (dist/ondevice-worker.mjs): the only place onnxruntime-web is ever loaded.
import * as Comlink from 'comlink';
import { runtimeApi } from './runtimeApi';
import { trackWasmMemory } from './trackWasmMemory';
import { markStartup } from '../core/markStartup';

markStartup('worker');

trackWasmMemory();
Comlink.expose(runtimeApi);
