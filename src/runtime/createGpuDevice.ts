/// <reference types="@webgpu/types" />
export interface GpuContext {
  device: GPUDevice;
  adapter: { vendor: string; architecture: string; device: string; description: string };
}

// The limits onnxruntime's WebGPU backend raises when it creates the device itself; we create the
// device so we can watch `device.lost`, so we must ask for the same.
const LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
] as const;
const FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

/** Returns the device, or a reason why WebGPU cannot be used here. */
export async function createGpuDevice(): Promise<{ ok: true; value: GpuContext } | { ok: false; reason: string }> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, reason: 'navigator.gpu is missing (WebGPU not supported or disabled in this browser)' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { ok: false, reason: `requestAdapter failed: ${(error as Error).message}` };
  }
  if (!adapter) return { ok: false, reason: 'no WebGPU adapter available (blocklisted GPU or no GPU)' };
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name] as number;
  const requiredFeatures = FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  try {
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    const info = adapter.info;
    return {
      ok: true,
      value: {
        device,
        adapter: {
          vendor: info?.vendor ?? '',
          architecture: info?.architecture ?? '',
          device: info?.device ?? '',
          description: info?.description ?? '',
        },
      },
    };
  } catch (error) {
    return { ok: false, reason: `requestDevice failed: ${(error as Error).message}` };
  }
}
