/// <reference types="@webgpu/types" />
import { LIMITS, type DeviceInfo } from '../core/eventSchema';
import { pageGlobals, type PageGlobals } from '../core/pageGlobals';

const clip = (s: string | undefined, n: number) => (s ?? '').slice(0, n);

/**
 * Device class for the `session` event: the WebGPU adapter's vendor and the browser brand, which is
 * what the dashboard's device mix shows. Nothing more (no architecture, adapter description, core
 * count, memory or version): together those form a fingerprint. Every probe is optional and bounded.
 */
export async function collectDeviceInfo(timeoutMs = 2000): Promise<DeviceInfo> {
  const nav = pageGlobals().navigator as NonNullable<PageGlobals['navigator']> & {
    gpu?: GPU;
    userAgentData?: { brands?: { brand: string; version: string }[] };
  };
  let webgpu: DeviceInfo['webgpu'] = null;
  if (nav.gpu) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const adapter = await Promise.race([
      nav.gpu.requestAdapter().catch(() => null),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    if (adapter) webgpu = { vendor: clip(adapter.info?.vendor, LIMITS.maxDeviceStringLength) };
  }
  const brands = nav.userAgentData?.brands?.filter((b) => !/not.?a.?brand/i.test(b.brand)) ?? [];
  const brand = brands.find((b) => /chrom|edge|opera|brave/i.test(b.brand)) ?? brands[0];
  const fromUa = /(Firefox|Chrome|Safari)\//.exec(nav.userAgent ?? '');
  return { webgpu, browser: { brand: clip(brand?.brand ?? fromUa?.[1] ?? 'unknown', LIMITS.maxBrowserBrandLength) } };
}
