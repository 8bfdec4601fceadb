// The classic-script build: `<script src=".../ondevice.js">` defines `window.OnDevice` and registers
// `<ondevice-model>`. Its worker, onnxruntime files and models are found relative to this script's own
// URL, which may be on another origin (src/client/createRuntimeWorker.ts bootstraps the worker then).
import { installGlobals } from './installGlobals';

installGlobals();
