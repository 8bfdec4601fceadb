import type { Backend } from '../core/protocol';
import { ORT_WASM_FILE } from '../core/ortWasmFile';

const compiled = new Map<string, Promise<WebAssembly.Module | undefined>>();

/**
 * onnxruntime's wasm for `bundle`, compiled on this page and handed to the runtime worker (which instantiates it
 * instead of compiling its own copy). A worker's compiled code dies with the worker, so every page load
 * would compile 14–27 MB again and run onnxruntime's start-up on cold baseline code; V8 shares one compiled
 * module between the page and its workers, and keeps the page's across a reload of the same site, lazily
 * compiled and tiered-up functions included. Fetched as onnxruntime fetches it (same URL, same credentials),
 * so Chromium's wasm code cache serves both. undefined where the page cannot compile it (no streaming
 * compile, a CSP without `'wasm-unsafe-eval'`, a fetch that failed): the worker then compiles as before.
 */
export function compileRuntime(ortBaseUrl: string, bundle: Backend): Promise<WebAssembly.Module | undefined> {
  const url = new URL(ORT_WASM_FILE[bundle], ortBaseUrl).href;
  let module = compiled.get(url);
  if (!module) {
    module =
      typeof WebAssembly?.compileStreaming === 'function'
        ? WebAssembly.compileStreaming(fetch(url, { credentials: 'same-origin' })).catch(() => undefined)
        : Promise.resolve(undefined);
    compiled.set(url, module);
  }
  return module;
}

/** Let the page's compiled module go (no worker of this bundle is left to use it). */
export function forgetCompiledRuntime(ortBaseUrl: string, bundle: Backend): void {
  compiled.delete(new URL(ORT_WASM_FILE[bundle], ortBaseUrl).href);
}
