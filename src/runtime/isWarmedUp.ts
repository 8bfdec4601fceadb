/** Warm-up runs at least this many times (the old fixed count), then until the runs are steady. */
export const WARMUP_MIN_RUNS = 10;
/** ...but never more than this many runs (a sub-millisecond model whose times never settle). */
export const WARMUP_MAX_RUNS = 100;
const LAST_RUNS = 3;
const STEADY_FACTOR = 1.25;

/**
 * Whether warm-up may stop: V8 runs a wasm function on its baseline code until the function has used its
 * tier-up budget, and the optimised code arrives later from a background compile, so a fixed number of
 * runs leaves a small model (or a loaded machine) still on baseline code and the first real run 2–4× slower.
 * Steady = the last 3 runs each within 1.25× of the fastest so far, after at least WARMUP_MIN_RUNS.
 */
export function isWarmedUp(runMs: readonly number[]): boolean {
  if (runMs.length >= WARMUP_MAX_RUNS) return true;
  if (runMs.length < WARMUP_MIN_RUNS) return false;
  const fastest = Math.min(...runMs);
  return runMs.slice(-LAST_RUNS).every((ms) => ms <= fastest * STEADY_FACTOR);
}
