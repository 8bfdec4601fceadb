import { readFile } from 'node:fs/promises';

/**
 * The models of a registry file (`models/registry.json`: an array of entries with `id` and
 * `version`) as keys that always count (ModelKeyBudget). A missing file is an empty list — a
 * collector deployed without the app has no registry — a malformed one is a startup error.
 */
export async function loadKnownModels(path: string): Promise<Array<{ modelId: string; modelVersion: string }>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new Error(`cannot read model registry ${path}: ${(e as Error).message}`, { cause: e });
  }
  let entries: unknown;
  try {
    entries = JSON.parse(text);
  } catch (e) {
    throw new Error(`model registry ${path} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(entries)) throw new Error(`model registry ${path} must be an array of entries`);
  return entries.map((entry: unknown, i) => {
    const { id, version } = (entry ?? {}) as { id?: unknown; version?: unknown };
    if (typeof id !== 'string' || typeof version !== 'string') {
      throw new Error(`model registry ${path}: entry ${i} needs a string id and version`);
    }
    return { modelId: id, modelVersion: version };
  });
}
