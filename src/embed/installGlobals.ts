import * as OnDevice from '../index';
import { configure } from '../client/configure';
import { defineOnDeviceModelElement } from './OnDeviceModelElement';
import { markStartup } from '../core/markStartup';

/**
 * What the classic script does when it runs: find the library's files relative to the script's own URL,
 * define `window.OnDevice` (the public API, plus `extra` for the test-only build) and `<ondevice-model>`.
 * Call it synchronously from the script's top level: `document.currentScript` is only set then.
 */
export function installGlobals(extra: Record<string, unknown> = {}): void {
  markStartup('script');
  const script = document.currentScript as HTMLScriptElement | null;
  if (script?.src) configure({ baseUrl: new URL('./', script.src).href });
  (window as unknown as { OnDevice: unknown }).OnDevice = Object.keys(extra).length > 0 ? { ...OnDevice, ...extra } : OnDevice;
  defineOnDeviceModelElement();
}
