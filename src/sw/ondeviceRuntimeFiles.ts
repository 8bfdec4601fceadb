import { builtRuntimeFiles } from '../core/builtRuntimeFiles';
import type { Backend } from '../core/protocol';
import { runtimeFilesFor } from '../core/RuntimeFiles';

export interface OnDeviceRuntimeFilesOptions {
  /** Where the app serves the runtime files, relative to the service worker's URL (or absolute). Default `'ondevice/'`, as `ondevice/vite` emits them. */
  base?: string;
  /** The backends the app uses; default both. */
  backends?: Backend[];
}

/** A Workbox precache entry (`workbox-precaching`'s `PrecacheEntry`). */
export interface RuntimePrecacheEntry {
  url: string;
  revision: string | null;
}

/**
 * The precache entries for ondevice's runtime files (the worker, its chunks and the onnxruntime
 * `.mjs`/`.wasm` of `backends`), for an app with its own Workbox service worker.
 *
 * @example
 * import { precacheAndRoute } from 'workbox-precaching';
 * import { ondeviceRuntimeFiles } from 'ondevice/sw';
 * precacheAndRoute([...self.__WB_MANIFEST, ...ondeviceRuntimeFiles({ backends: ['wasm'] })]);
 */
export function ondeviceRuntimeFiles(options: OnDeviceRuntimeFilesOptions = {}): RuntimePrecacheEntry[] {
  const base = (options.base ?? 'ondevice/').replace(/\/*$/, '/');
  return runtimeFilesFor(builtRuntimeFiles(), options.backends).map((file) => ({ url: base + file.url, revision: file.revision }));
}
