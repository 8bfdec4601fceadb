import type { ModelEntry } from './ModelEntry';

/**
 * Look a model up by id (`ppocr-v4-det`, newest version), by `id@version` (`ppocr-v4-det@1`), or by
 * URL or file name (`/models/ch_PP-OCRv4_det_infer.onnx?v=2`, matched on the last path segment).
 * Returns undefined when nothing matches.
 *
 * @example
 * const det = findModel(registry, 'ppocr-v4-det')
 */
export function findModel(registry: readonly ModelEntry[], idOrUrl: string): ModelEntry | undefined {
  const at = idOrUrl.lastIndexOf('@');
  if (at > 0 && !idOrUrl.includes('/')) {
    const id = idOrUrl.slice(0, at);
    const version = idOrUrl.slice(at + 1);
    return registry.find((entry) => entry.id === id && entry.version === version);
  }
  const byId = registry.filter((entry) => entry.id === idOrUrl);
  if (byId.length > 0) return byId.reduce((newest, entry) => (compareVersions(entry.version, newest.version) > 0 ? entry : newest));
  const file = lastPathSegment(idOrUrl);
  return registry.find((entry) => entry.file === file);
}

/** Numeric-aware: '10' > '9', '1.10' > '1.9'. */
function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

function lastPathSegment(url: string): string {
  const path = url.split(/[?#]/, 1)[0];
  const segment = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
