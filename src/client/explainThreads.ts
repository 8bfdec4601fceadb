import type { LoadInfo } from '../core/protocol';

/** Say why a model got fewer WASM threads than asked for, so a page can show it next to the backend. */
export function explainThreads(info: LoadInfo, requested: number): LoadInfo {
  if (info.threads >= requested) return info;
  const threadsReason = globalThis.crossOriginIsolated
    ? `onnxruntime-web runs ${info.threads} thread(s) in this worker (fixed by the first model loaded into it)`
    : 'single-threaded: the page is not cross-origin isolated, so there is no SharedArrayBuffer ' +
      '(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp or credentialless)';
  return { ...info, threadsReason };
}
