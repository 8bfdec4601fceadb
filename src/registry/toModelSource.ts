import type { ModelSource } from '../core/protocol';
import type { ModelEntry } from './ModelEntry';

/**
 * The runtime's view of a registry entry: where to fetch it and what to verify. `baseUrl` is the folder
 * `models:sync` fills (e.g. `new URL('/models/', location.href)`).
 *
 * @example
 * const source = toModelSource(findModel(registry, 'tiny-mlp')!, new URL('/models/', location.href))
 */
export function toModelSource(entry: ModelEntry, baseUrl: string | URL): ModelSource {
  const { dims, fill } = entry.sample ?? {};
  return {
    url: new URL(entry.file, baseUrl).href,
    id: entry.id,
    version: entry.version,
    sha256: entry.sha256,
    bytes: entry.bytes,
    ...(entry.externalData
      ? {
          externalData: entry.externalData.map((d) => ({
            location: d.location,
            url: new URL(d.file, baseUrl).href,
            sha256: d.sha256,
            bytes: d.bytes,
          })),
        }
      : {}),
    ...(entry.totalBytes !== undefined ? { totalBytes: entry.totalBytes } : {}),
    inputs: entry.inputs,
    outputs: entry.outputs,
    ...(dims || fill ? { sample: { dims, fill } } : {}),
    ...(entry.optimized
      ? {
          optimized: {
            url: new URL(entry.optimized.file, baseUrl).href,
            sha256: entry.optimized.sha256,
            bytes: entry.optimized.bytes,
            onnxruntime: entry.optimized.onnxruntime,
          },
        }
      : {}),
  };
}
