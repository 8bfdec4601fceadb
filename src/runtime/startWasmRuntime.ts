import type { Backend } from '../core/protocol';
import type { OrtModule } from './loadOrt';

// A one-node ONNX model (y = Identity(x), float32 [1]; 90 bytes, written by scripts/onnx/encodeModel.ts).
const IDENTITY_MODEL =
  'CAgSCG9uZGV2aWNlGgExOkMKHAoBeBIBeRoKSWRlbnRpdHlfMCIISWRlbnRpdHkSAXdaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN';

/**
 * Fetch, compile and instantiate onnxruntime's wasm now, while the model is still downloading.
 * onnxruntime-web only starts its wasm when the first session is created, i.e. after the model's bytes
 * are in, and it has no public call for "initialise the backend" (`Backend.init` is internal), so we
 * create a session from a built-in one-node model on the backend this worker will use: onnxruntime
 * initialises a backend once per name, and a later `InferenceSession.create` awaits the same promise.
 * Never rejects: a runtime that cannot start fails again, with its real error, on the model's session.
 */
export async function startWasmRuntime(ort: OrtModule, backend: Backend): Promise<{ ok: boolean; ms: number }> {
  const t0 = performance.now();
  try {
    const bytes = Uint8Array.from(atob(IDENTITY_MODEL), (c) => c.charCodeAt(0));
    const session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
    await session.release();
    return { ok: true, ms: performance.now() - t0 };
  } catch {
    return { ok: false, ms: performance.now() - t0 };
  }
}
