import type { ModelSource, TensorSpec } from '../runtime/protocol';
import { getConfig } from './configure';
import { OnDeviceError } from './OnDeviceError';

/** A registry entry as served at `models/registry.json` (see models/README). */
export interface RegistryEntry {
  id: string;
  version: string;
  file: string;
  sha256: string;
  bytes: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  task?: string;
  license?: string;
  description?: string;
  sample?: ModelSource['sample'];
  [key: string]: unknown;
}

export type ModelInput = string | URL | RegistryEntry;

let registryPromise: Promise<RegistryEntry[]> | undefined;
let registryUrlLoaded: string | undefined;

export async function fetchRegistry(signal?: AbortSignal): Promise<RegistryEntry[]> {
  const config = getConfig();
  const url = config.registryUrl ?? new URL('models/registry.json', config.baseUrl).href;
  if (!registryPromise || registryUrlLoaded !== url) {
    registryUrlLoaded = url;
    registryPromise = (async () => {
      const response = await fetch(url, { signal }).catch((error: Error) => {
        throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the model registry ${url}: ${error.message}`, { url });
      });
      if (!response.ok)
        throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the model registry ${url}: HTTP ${response.status}`, { url });
      const json = (await response.json()) as { models?: RegistryEntry[] } | RegistryEntry[];
      return Array.isArray(json) ? json : (json.models ?? []);
    })();
    registryPromise.catch(() => (registryPromise = undefined));
  }
  return registryPromise;
}

function looksLikeUrl(value: string): boolean {
  return /^(https?:|blob:|data:|\/|\.\.?\/)/.test(value) || value.includes('/') || /\.onnx(\?|#|$)/.test(value);
}

function idFromUrl(url: string): string {
  const file = new URL(url).pathname.split('/').pop() ?? 'model';
  return decodeURIComponent(file).replace(/\.[^.]+$/, '') || 'model';
}

export function sourceFromEntry(entry: RegistryEntry): ModelSource {
  const { baseUrl } = getConfig();
  const registryBase = getConfig().registryUrl ?? new URL('models/registry.json', baseUrl).href;
  return {
    url: new URL(entry.file, registryBase).href,
    id: entry.id,
    version: entry.version,
    sha256: entry.sha256,
    bytes: entry.bytes,
    inputs: entry.inputs,
    outputs: entry.outputs,
    sample: entry.sample,
  };
}

/** Turn what the caller passed (URL, registry entry or registry id) into a concrete source. */
export async function resolveSource(input: ModelInput, options: { sha256?: string; signal?: AbortSignal } = {}): Promise<ModelSource> {
  if (input instanceof URL) input = input.href;
  if (typeof input === 'object' && input !== null) {
    if (typeof input.file !== 'string' || typeof input.id !== 'string') {
      throw new OnDeviceError('INVALID_INPUT', 'A registry entry needs at least `id` and `file`');
    }
    return sourceFromEntry(input);
  }
  if (typeof input !== 'string' || input.length === 0) {
    throw new OnDeviceError('INVALID_INPUT', 'loadModel(source): source must be a model URL, a registry id or a registry entry');
  }
  if (looksLikeUrl(input)) {
    const url = new URL(input, globalThis.location?.href).href;
    return { url, id: idFromUrl(url), sha256: options.sha256 };
  }
  const registry = await fetchRegistry(options.signal);
  const entry = registry.find((e) => e.id === input);
  if (!entry) {
    throw new OnDeviceError('INVALID_INPUT', `No model "${input}" in the registry; known ids: ${registry.map((e) => e.id).join(', ')}`, {
      id: input,
    });
  }
  return sourceFromEntry(entry);
}
