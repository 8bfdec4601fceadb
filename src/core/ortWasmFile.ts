import type { Backend } from './protocol';

/**
 * The onnxruntime-web wasm each backend's lean bundle loads (from `ortBaseUrl`): the plain SIMD-threaded build for
 * WASM, the asyncify build that onnxruntime-web/webgpu needs. scripts/build.ts copies them; the page compiles them.
 */
export const ORT_WASM_FILE: Readonly<Record<Backend, string>> = {
  wasm: 'ort-wasm-simd-threaded.wasm',
  webgpu: 'ort-wasm-simd-threaded.asyncify.wasm',
};
