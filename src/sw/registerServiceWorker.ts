import { Workbox } from 'workbox-window';

export interface RegisterServiceWorkerOptions {
  /** The service worker script (default: `sw.js` next to the page's base URL). */
  url?: string;
  /**
   * A new deployment is installed and waiting. Show a prompt; call `reload()` when the user agrees: the
   * new worker takes over and the page reloads onto the new code (never swapped silently).
   */
  onUpdateAvailable?: (reload: () => void) => void;
  /**
   * Reload once when the worker first takes control of a page that is not cross-origin isolated, so
   * the isolation headers it adds apply (default true).
   */
  reloadForIsolation?: boolean;
}

const RELOADED_FLAG = 'ondevice:reloaded-for-isolation';

/**
 * Register the app's service worker with workbox-window. Resolves to undefined where service workers
 * are unavailable or refused; the app then simply works online only.
 */
export async function registerServiceWorker(options: RegisterServiceWorkerOptions = {}): Promise<Workbox | undefined> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return undefined;
  const wb = new Workbox(options.url ?? new URL('sw.js', document.baseURI).href);
  wb.addEventListener('controlling', (event) => {
    if (event.isUpdate || options.reloadForIsolation === false || globalThis.crossOriginIsolated) return;
    // Cross-origin isolation is decided at navigation; one reload lets the worker's headers apply.
    // The flag stops a loop if isolation still fails (e.g. a cross-origin resource without CORP).
    if (sessionStorage.getItem(RELOADED_FLAG)) return;
    sessionStorage.setItem(RELOADED_FLAG, '1');
    location.reload();
  });
  wb.addEventListener('waiting', () => {
    const reload = () => {
      wb.addEventListener('controlling', () => location.reload());
      wb.messageSkipWaiting();
    };
    if (options.onUpdateAvailable) options.onUpdateAvailable(reload);
  });
  try {
    await wb.register();
  } catch {
    // Private modes and some embedded browsers refuse registration; the app works online without it.
    return undefined;
  }
  return wb;
}
