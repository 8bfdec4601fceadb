/// <reference types="@webgpu/types" />

/**
 * The WebGPU adapter ondevice runs on (high-performance), or why there is none here. The page asks too, before
 * it starts a WebGPU worker for `backend: 'auto'`: where this context has no adapter, neither has a worker.
 *
 * @example
 * const found = await requestGpuAdapter();
 * if (!found.ok) console.log(found.reason); // 'no WebGPU adapter available (blocklisted GPU or no GPU)'
 */
export async function requestGpuAdapter(): Promise<{ ok: true; adapter: GPUAdapter } | { ok: false; reason: string }> {
  const gpu = (globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined)?.gpu;
  if (!gpu) return { ok: false, reason: 'navigator.gpu is missing (WebGPU not supported or disabled in this browser)' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { ok: false, reason: `requestAdapter failed: ${(error as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'no WebGPU adapter available (blocklisted GPU or no GPU)' };
  return { ok: true, adapter };
}
