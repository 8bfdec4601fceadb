import { OnDeviceError } from './OnDeviceError';
import type { Backend } from './protocol';

/** One file the runtime worker loads at run time, relative to the library's base URL. */
export interface RuntimeFile {
  /** Path relative to the base URL, e.g. `ort/ort-wasm-simd-threaded.wasm`. */
  url: string;
  /** A content hash, or null when the name itself carries one (`chunks/ort.wasm.min-BFYN3V8A.mjs`). */
  revision: string | null;
  bytes: number;
}

/**
 * What a page needs served next to it to run models: the worker and its shared chunks (`common`), and
 * per backend the onnxruntime bundle chunk and its `.mjs`/`.wasm`. Written by scripts/buildLibrary.ts
 * into `lib/runtime-files.json` and built into `ondevice/vite` and `ondevice/sw`.
 */
export interface RuntimeFiles {
  common: RuntimeFile[];
  wasm: RuntimeFile[];
  webgpu: RuntimeFile[];
}

export const ALL_BACKENDS: readonly Backend[] = ['wasm', 'webgpu'];

/** The files for `backends` (at least one of 'wasm', 'webgpu'): the common ones first, each file once. */
export function runtimeFilesFor(files: RuntimeFiles, backends: readonly Backend[] = ALL_BACKENDS): RuntimeFile[] {
  const unknown = backends.filter((backend) => !ALL_BACKENDS.includes(backend));
  if (backends.length === 0 || unknown.length) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `backends must name at least one of ${ALL_BACKENDS.join(', ')} (got ${JSON.stringify(backends)})`,
      {
        backends,
      },
    );
  }
  const seen = new Set<string>();
  return [files.common, ...backends.map((backend) => files[backend])].flat().filter((file) => !seen.has(file.url) && !!seen.add(file.url));
}
