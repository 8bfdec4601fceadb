import type { TelemetryBackend } from '../core/eventSchema';
import type { LatencySamples } from './storeRows';

/**
 * Latency rows (newest first, at most `maxRows + 1` read to tell truncation) grouped per model × version ×
 * backend and sorted: the one reduction both event query stores apply to what their database returns.
 */
export function groupLatencySamples(
  rows: ReadonlyArray<{ modelId: string; modelVersion: string; backend: TelemetryBackend; ms: number }>,
  maxRows: number,
): LatencySamples {
  const byKey = new Map<string, { modelId: string; modelVersion: string; backend: TelemetryBackend; ms: number[] }>();
  for (const r of rows.slice(0, maxRows)) {
    const k = `${r.modelId}\u0000${r.modelVersion}\u0000${r.backend}`;
    let g = byKey.get(k);
    if (!g) byKey.set(k, (g = { modelId: r.modelId, modelVersion: r.modelVersion, backend: r.backend, ms: [] }));
    g.ms.push(r.ms);
  }
  return {
    truncated: rows.length > maxRows,
    groups: [...byKey.values()].map(({ ms, ...key }) => ({ ...key, sortedMs: Float64Array.from(ms).sort() })),
  };
}
