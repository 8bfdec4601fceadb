import { OnDeviceError } from '../core/OnDeviceError';
import type { ModelEntry } from './ModelEntry';
import { parseRegistry } from './parseRegistry';

/**
 * Read a fetched `models/registry.json` response (already `ok`) into validated entries. A static host
 * or dev server answers a wrong path with its index.html and a 200 — almost always a missing
 * `configure({ baseUrl })` — so HTML fails like an HTML page instead of a model does:
 * `MODEL_FETCH_FAILED`, naming the URL and the baseUrl it came from. JSON that is not a valid registry
 * fails with the same code and every problem in `details.problems`.
 *
 * @example
 * const registry = await parseRegistryResponse(await fetch(url), { url, baseUrl: config.baseUrl })
 */
export async function parseRegistryResponse(response: Response, where: { url: string; baseUrl: string }): Promise<ModelEntry[]> {
  const { url, baseUrl } = where;
  const details = { url, baseUrl, status: response.status };
  const hint = `check configure({ baseUrl }) (now ${baseUrl}) or configure({ registryUrl })`;
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (/text\/html|application\/xhtml/i.test(contentType) || /^\s*</.test(text)) {
    throw new OnDeviceError(
      'MODEL_FETCH_FAILED',
      `The model registry ${url} answered with an HTML page, not JSON (an app's fallback page?): ${hint}`,
      { ...details, contentType },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `The model registry ${url} is not JSON (${(error as Error).message}): ${hint}`, details, {
      cause: error,
    });
  }
  // `{ "models": [...] }` is accepted as well as a bare array.
  const entries = json !== null && typeof json === 'object' && !Array.isArray(json) && 'models' in json ? json.models : json;
  try {
    return parseRegistry(entries, { plainFileNames: false });
  } catch (error) {
    const problems = (error as OnDeviceError).details?.problems;
    throw new OnDeviceError('MODEL_FETCH_FAILED', `The model registry ${url} is not valid: ${(error as Error).message}`, {
      ...details,
      problems,
    });
  }
}
