import type { Backend } from '../core/protocol';
import type { OrtModule } from './loadOrt';

// A one-node ONNX model (y = Identity(x), float32 [1]; 90 bytes, written by scripts/onnx/encodeModel.ts).
const IDENTITY_MODEL =
  'CAgSCG9uZGV2aWNlGgExOkMKHAoBeBIBeRoKSWRlbnRpdHlfMCIISWRlbnRpdHkSAXdaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN';

/**
 * Fetch, compile and instantiate onnxruntime's wasm now, while the model is still downloading — or, given the
 * `module` the page compiled (src/client/compileRuntime.ts), instantiate that.
 * onnxruntime-web only starts its wasm when the first session is created, i.e. after the model's bytes
 * are in, and it has no public call for "initialise the backend" (`Backend.init` is internal), so we
 * create a session from a built-in one-node model on the backend this worker will use: onnxruntime
 * initialises a backend once per name, and a later `InferenceSession.create` awaits the same promise.
 * Never rejects: a runtime that cannot start fails again, with its real error, on the model's session.
 */
export async function startWasmRuntime(
  ort: OrtModule,
  backend: Backend,
  module?: WebAssembly.Module,
): Promise<{ ok: boolean; ms: number; fromPage: boolean }> {
  const t0 = performance.now();
  const interception = module ? instantiateFrom(module) : undefined;
  try {
    const bytes = Uint8Array.from(atob(IDENTITY_MODEL), (c) => c.charCodeAt(0));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
    await session.release();
    return { ok: true, ms: performance.now() - t0, fromPage: interception?.used() ?? false };
  } catch {
    return { ok: false, ms: performance.now() - t0, fromPage: false };
  } finally {
    interception?.restore();
  }
}

/**
 * Have onnxruntime's loader instantiate `module` instead of compiling its own: onnxruntime-web takes its wasm as a
 * URL or as bytes, never as a compiled module, and its Emscripten loader instantiates with
 * `WebAssembly.instantiateStreaming(fetch(url), imports)`. So for the one start of this worker (nothing else
 * here instantiates wasm), that call instantiates `module` with the loader's imports and drops the response.
 * Were the loader to instantiate another way, it compiles as before.
 */
function instantiateFrom(module: WebAssembly.Module): { used: () => boolean; restore: () => void } {
  const original = WebAssembly.instantiateStreaming;
  let used = false;
  WebAssembly.instantiateStreaming = async (source, imports) => {
    WebAssembly.instantiateStreaming = original;
    used = true;
    // The loader's own fetch of the bytes we already compiled: not read.
    void Promise.resolve(source)
      .then((response) => response.body?.cancel())
      .catch(() => undefined);
    return { module, instance: await WebAssembly.instantiate(module, imports) };
  };
  return {
    used: () => used,
    restore: () => {
      WebAssembly.instantiateStreaming = original;
    },
  };
}
