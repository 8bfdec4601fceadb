/// <reference types="@webgpu/types" />
import { requestGpuAdapter } from '../core/requestGpuAdapter';

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
  const found = await requestGpuAdapter();
  if (!found.ok) return found;
  const { adapter } = found;
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
