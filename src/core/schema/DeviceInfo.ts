import * as v from 'valibot';
import { LIMITS } from './limits';
import { wellFormedText } from './safeStrings';

// Fields that clients before the fingerprint trim sent. They are still accepted, so queued events of
// old clients are not rejected, and dropped at once: nothing of them is stored.
const legacyGpuFields = {
  architecture: v.exactOptional(wellFormedText(LIMITS.maxDeviceStringLength)),
  device: v.exactOptional(wellFormedText(LIMITS.maxDeviceStringLength)),
  description: v.exactOptional(wellFormedText(LIMITS.maxDeviceStringLength)),
};
const legacyDeviceFields = {
  hardwareConcurrency: v.exactOptional(v.unknown()),
  deviceMemory: v.exactOptional(v.unknown()),
  crossOriginIsolated: v.exactOptional(v.unknown()),
};

/**
 * What a `session` event says about the device: only what the dashboard's device mix shows
 * ("GPU vendor / browser brand"), nothing that narrows a visitor down further (together, finer fields fingerprint a visitor).
 */
export const DeviceInfoSchema = v.pipe(
  v.strictObject({
    /** null when `navigator.gpu` or an adapter is missing. */
    webgpu: v.nullable(
      v.pipe(
        v.strictObject({ vendor: wellFormedText(LIMITS.maxDeviceStringLength), ...legacyGpuFields }),
        v.transform(({ vendor }) => ({ vendor })),
      ),
    ),
    browser: v.pipe(
      v.strictObject({
        brand: wellFormedText(LIMITS.maxBrowserBrandLength),
        version: v.exactOptional(wellFormedText(LIMITS.maxBrowserVersionLength)),
      }),
      v.transform(({ brand }) => ({ brand })),
    ),
    ...legacyDeviceFields,
  }),
  v.transform(({ webgpu, browser }) => ({ webgpu, browser })),
);

export type DeviceInfo = v.InferOutput<typeof DeviceInfoSchema>;
export type WebGpuAdapterInfo = NonNullable<DeviceInfo['webgpu']>;
