// Types-only protocol between pages and the app's service worker (src/sw/sw.ts).

/** workbox-window's `messageSkipWaiting()` posts this: the waiting worker takes over (after the user agreed). */
export interface SkipWaitingMessage {
  type: 'SKIP_WAITING';
}

export type ServiceWorkerMessage = SkipWaitingMessage;
