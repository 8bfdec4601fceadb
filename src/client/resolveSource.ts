import { findModel } from '../registry/findModel';
import { parseRegistryResponse } from '../registry/parseRegistryResponse';
import type { ModelEntry } from '../registry/ModelEntry';
import { toModelSource } from '../registry/toModelSource';
import type { DataFileOverride, ModelSource } from '../core/protocol';
import { problemWithLocation } from '../core/onnx/dataLocation';
import { getConfig } from './configure';
import { OnDeviceError } from '../core/OnDeviceError';
import { untilAborted } from '../core/untilAborted';
import { resolveRelease } from './resolveRelease';

/** A registry entry as served at `models/registry.json` (see models/README.md). */
export type RegistryEntry = ModelEntry;

/**
 * Which model to load: a registry id (`'tiny-mlp'`, or `'tiny-mlp@2'` for a version), the model's URL
 * (string or `URL`), or a registry entry. A reference to a model, not one of its tensors.
 *
 * @example
 * const ref: ModelReference = 'tiny-mlp@1';
 * const model = await loadModel(ref);
 */
export type ModelReference = string | URL | RegistryEntry;

/** @deprecated The old name of `ModelReference` (it named no tensor input); kept so code written against it compiles. */
export type ModelInput = ModelReference;

let registryPromise: Promise<RegistryEntry[]> | undefined;
let registryUrlLoaded: string | undefined;

const REGISTRY_TIMEOUT_MS = 30_000;

/**
 * The model registry, fetched once and shared by every caller. The shared fetch is bounded by its own
 * timeout, never by a caller's signal: one caller's abort must not fail the others. Each caller's
 * signal only stops that caller's wait (ABORTED).
 */
export async function fetchRegistry(signal?: AbortSignal): Promise<RegistryEntry[]> {
  const config = getConfig();
  const url = config.registryUrl ?? new URL('models/registry.json', config.baseUrl).href;
  if (!registryPromise || registryUrlLoaded !== url) {
    registryUrlLoaded = url;
    registryPromise = (async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) }).catch((error: Error) => {
        if (error.name === 'TimeoutError') {
          throw new OnDeviceError('TIMEOUT', `The model registry ${url} did not answer within ${REGISTRY_TIMEOUT_MS} ms`, { url });
        }
        throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the model registry ${url}: ${error.message}`, { url });
      });
      if (!response.ok)
        throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not fetch the model registry ${url}: HTTP ${response.status}`, { url });
      return parseRegistryResponse(response, { url, baseUrl: config.baseUrl });
    })();
    const shared = registryPromise;
    shared.catch(() => {
      if (registryPromise === shared) registryPromise = undefined;
    });
  }
  return untilAborted(registryPromise, signal, 'Loading was aborted');
}

function looksLikeUrl(value: string): boolean {
  return /^(https?:|blob:|data:|\/|\.\.?\/)/.test(value) || value.includes('/') || /\.onnx(\?|#|$)/.test(value);
}

function idFromUrl(url: string): string {
  const file = new URL(url).pathname.split('/').pop() ?? 'model';
  return decodeURIComponent(file).replace(/\.[^.]+$/, '') || 'model';
}

const SHA256 = /^[0-9a-f]{64}$/;

/** `loadModel(url, { dataFiles })`, checked: locations as the model may name them, URLs resolved against the page. */
function checkDataFiles(dataFiles: unknown): Record<string, DataFileOverride> {
  if (typeof dataFiles !== 'object' || dataFiles === null || Array.isArray(dataFiles)) {
    throw new OnDeviceError('INVALID_INPUT', 'dataFiles must be an object: { [location]: { url?, sha256? } }');
  }
  const out: Record<string, DataFileOverride> = {};
  for (const [location, value] of Object.entries(dataFiles as Record<string, unknown>)) {
    const problem = problemWithLocation(location);
    if (problem) throw new OnDeviceError('INVALID_INPUT', `dataFiles: the location "${location}" ${problem}`, { location });
    const { url, sha256, ...rest } = (value ?? {}) as { url?: unknown; sha256?: unknown };
    if (typeof value !== 'object' || value === null || Object.keys(rest).length > 0) {
      throw new OnDeviceError('INVALID_INPUT', `dataFiles["${location}"] must be { url?, sha256? }`, { location });
    }
    if (sha256 !== undefined && !(typeof sha256 === 'string' && SHA256.test(sha256))) {
      throw new OnDeviceError('INVALID_INPUT', `dataFiles["${location}"].sha256 must be 64 lower-case hex digits`, { location });
    }
    let resolved: string | undefined;
    if (url !== undefined) {
      try {
        resolved = new URL(String(url), globalThis.location?.href).href;
      } catch {
        throw new OnDeviceError('INVALID_INPUT', `dataFiles["${location}"].url is not a URL: ${String(url)}`, { location });
      }
    }
    out[location] = { ...(resolved ? { url: resolved } : {}), ...(sha256 ? { sha256 } : {}) };
  }
  return out;
}

export function sourceFromEntry(entry: RegistryEntry): ModelSource {
  const config = getConfig();
  return toModelSource(entry, config.registryUrl ?? new URL('models/registry.json', config.baseUrl).href);
}

/**
 * Turn what the caller passed (URL, registry entry or registry id) into a concrete source. `fresh` asks the
 * release server again and loads exactly the assigned version (`model.update()`).
 */
export async function resolveSource(
  input: ModelReference,
  options: { sha256?: string; dataFiles?: Record<string, DataFileOverride>; signal?: AbortSignal; fresh?: boolean } = {},
): Promise<ModelSource> {
  if (input instanceof URL) input = input.href;
  const dataFiles = options.dataFiles === undefined ? undefined : checkDataFiles(options.dataFiles);
  if (dataFiles && !(typeof input === 'string' && looksLikeUrl(input))) {
    throw new OnDeviceError('INVALID_INPUT', 'dataFiles is for a model loaded by URL; a registry entry lists its own data files');
  }
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
    return { url, id: idFromUrl(url), sha256: options.sha256, ...(dataFiles ? { dataFiles } : {}) };
  }
  // A registry id follows the server: the version assigned to this install, when a release server answers.
  // `id@version` pins a version and skips it.
  if (!input.includes('@')) {
    const released = await resolveRelease(input, { signal: options.signal, fresh: options.fresh });
    if (released) return released;
  }
  const registry = await fetchRegistry(options.signal);
  const entry = findModel(registry, input);
  if (!entry) {
    throw new OnDeviceError('INVALID_INPUT', `No model "${input}" in the registry; known ids: ${registry.map((e) => e.id).join(', ')}`, {
      id: input,
    });
  }
  return sourceFromEntry(entry);
}
