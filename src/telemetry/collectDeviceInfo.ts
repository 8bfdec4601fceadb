/// <reference types="@webgpu/types" />
import type { DeviceInfo } from '../core/eventSchema';
import { pageGlobals, type PageGlobals } from '../core/pageGlobals';

const clip = (s: string | undefined, n: number) => (s ?? '').slice(0, n);

/** Device capabilities for the `session` event; every probe is optional and bounded. */
export async function collectDeviceInfo(timeoutMs = 2000): Promise<DeviceInfo> {
  const nav = pageGlobals().navigator as NonNullable<PageGlobals['navigator']> & {
    gpu?: GPU;
    deviceMemory?: number;
    userAgentData?: { brands?: { brand: string; version: string }[] };
  };
  let webgpu: DeviceInfo['webgpu'] = null;
  if (nav.gpu) {
    const adapter = await Promise.race([
      nav.gpu.requestAdapter().catch(() => null),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs)),
    ]);
    if (adapter) {
      const info = adapter.info;
      webgpu = {
        vendor: clip(info?.vendor, 256),
        architecture: clip(info?.architecture, 256),
        device: clip(info?.device, 256),
        description: clip(info?.description, 256),
      };
    }
  }
  const brands = nav.userAgentData?.brands?.filter((b) => !/not.?a.?brand/i.test(b.brand)) ?? [];
  const brand = brands.find((b) => /chrom|edge|opera|brave/i.test(b.brand)) ?? brands[0];
  const fromUa = /(Firefox|Chrome|Safari)\/(\d+)/.exec(nav.userAgent ?? '');
  return {
    webgpu,
    hardwareConcurrency: nav.hardwareConcurrency ?? 1,
    deviceMemory: typeof nav.deviceMemory === 'number' ? nav.deviceMemory : null,
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    browser: {
      brand: clip(brand?.brand ?? fromUa?.[1] ?? 'unknown', 64),
      version: clip(brand?.version ?? fromUa?.[2] ?? '0', 32),
    },
  };
}
