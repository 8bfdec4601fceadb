// The classic-script build: `<script src=".../ondevice.js">` defines `window.OnDevice` and registers
// `<ondevice-model>`. Its worker, onnxruntime files and models are found relative to this script's own
// URL, which may be on another origin (src/client/createRuntimeWorker.ts bootstraps the worker then).
import * as OnDevice from '../index';
import { configure } from '../client/configure';
import { defineOnDeviceModelElement } from './OnDeviceModelElement';

const script = document.currentScript as HTMLScriptElement | null;
if (script?.src) configure({ baseUrl: new URL('./', script.src).href });

(window as unknown as { OnDevice: typeof OnDevice }).OnDevice = OnDevice;
defineOnDeviceModelElement();
