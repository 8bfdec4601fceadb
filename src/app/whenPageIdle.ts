/**
 * Resolves once the page has loaded and the browser reports idle time (requestIdleCallback, bounded by
 * `timeoutMs` so a busy page still gets there), for work that must never go ahead of the user's.
 */
export async function whenPageIdle(timeoutMs = 5000): Promise<void> {
  if (document.readyState !== 'complete') {
    await new Promise<void>((resolve) => addEventListener('load', () => resolve(), { once: true }));
  }
  await new Promise<void>((resolve) => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => resolve(), { timeout: timeoutMs });
    else setTimeout(resolve, 0);
  });
}
