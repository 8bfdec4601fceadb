/**
 * Globals that only a page (Window) has, typed for code that also runs in workers and service
 * workers, where they are missing. Read them through this, lazily, and feature-detect: a worker
 * type-checks against the WebWorker lib, so a bare `document` there is a type error on purpose.
 */
export interface PageGlobals {
  document?: {
    visibilityState: string;
    addEventListener(type: 'visibilitychange', listener: () => void): void;
    removeEventListener(type: 'visibilitychange', listener: () => void): void;
  };
  localStorage?: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  navigator?: {
    userAgent?: string;
    hardwareConcurrency?: number;
    sendBeacon?(url: string, data: Blob): boolean;
    /** Window-only (https://storage.spec.whatwg.org/#dom-storagemanager-persist). */
    storage?: { persist?(): Promise<boolean>; persisted?(): Promise<boolean> };
  };
}

export function pageGlobals(): PageGlobals {
  return globalThis as unknown as PageGlobals;
}
