/**
 * Upper bounds (inclusive, ms) of the inference-latency histogram shared by `/metrics` and the
 * dashboard. Roughly ×2 steps: on-device inference spans ~1 ms (tiny model, WebGPU) to seconds (WASM).
 */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

/** The bucket index of `column` (`LATENCY_BUCKETS_MS.length` is +Inf) as SQL, so histograms aggregate inside SQLite. */
export function latencyBucketSql(column: string): string {
  const arms = LATENCY_BUCKETS_MS.map((le, i) => `WHEN ${column} <= ${le} THEN ${i}`).join(' ');
  return `CASE ${arms} ELSE ${LATENCY_BUCKETS_MS.length} END`;
}
