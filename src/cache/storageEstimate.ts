/** `navigator.storage.estimate()`, or undefined where the Storage API is missing (older WebViews, Node). */
export async function storageEstimate(): Promise<{ usageBytes: number; quotaBytes: number } | undefined> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.estimate) return undefined;
  try {
    const { usage = 0, quota = Number.POSITIVE_INFINITY } = await storage.estimate();
    return { usageBytes: usage, quotaBytes: quota };
  } catch {
    return undefined;
  }
}
