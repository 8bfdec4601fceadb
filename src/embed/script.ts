// The classic-script build: `<script src=".../ondevice.js">` defines `window.OnDevice`.
// Its worker, onnxruntime files and models are found relative to this script's own URL.
import * as OnDevice from '../index';
import { configure } from '../client/configure';

const script = document.currentScript as HTMLScriptElement | null;
if (script?.src) configure({ baseUrl: new URL('./', script.src).href });

(window as unknown as { OnDevice: typeof OnDevice }).OnDevice = OnDevice;
