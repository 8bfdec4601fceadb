import type { ModelSource } from '../core/protocol';
import type { ModelEntry } from './ModelEntry';
import type { ReleaseEntry } from './ReleaseManifest';

/** Where one file of an entry lives: `file` in a registry (relative to its folder), `url` in a release manifest (on its server). */
type FileRef = { file: string } | { url: string };

/**
 * The runtime's view of a registry entry or a release manifest's entry: where to fetch the model and its
 * data files and what to verify. `baseUrl` is what their paths are relative to: the folder `models:sync`
 * fills (e.g. `new URL('/models/', location.href)`) for a registry, the release server for a manifest.
 *
 * @example
 * const source = toModelSource(findModel(registry, 'tiny-mlp')!, new URL('/models/', location.href))
 */
export function toModelSource(entry: ModelEntry | ReleaseEntry, baseUrl: string | URL): ModelSource {
  const at = (ref: FileRef) => new URL('file' in ref ? ref.file : ref.url, baseUrl).href;
  const { dims, fill } = entry.sample ?? {};
  return {
    url: at(entry),
    id: entry.id,
    version: entry.version,
    sha256: entry.sha256,
    bytes: entry.bytes,
    ...(entry.externalData
      ? { externalData: entry.externalData.map((d) => ({ location: d.location, url: at(d), sha256: d.sha256, bytes: d.bytes })) }
      : {}),
    ...(entry.totalBytes !== undefined ? { totalBytes: entry.totalBytes } : {}),
    inputs: entry.inputs,
    outputs: entry.outputs,
    ...(dims || fill ? { sample: { dims, fill } } : {}),
    ...(entry.optimized
      ? {
          optimized: {
            url: at(entry.optimized),
            sha256: entry.optimized.sha256,
            bytes: entry.optimized.bytes,
            onnxruntime: entry.optimized.onnxruntime,
          },
        }
      : {}),
  };
}
