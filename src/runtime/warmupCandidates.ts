import type { Backend, Feeds } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleDims, sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { warmupSignature, type CallShape, type WarmupRecord } from '../cache/warmupMemory';
import { dimsOf, type WarmupCandidate } from './SessionWarmup';

/**
 * Symbolic dims past the batch dim, tried in turn when a model has no sample hint (loaded by URL): 32 first,
 * because many vision models need multiples of 32 and a 1-pixel input warms little of the code a real input
 * runs; then 1. WebGPU keeps 1 (SwiftShader is slow).
 */
const FREE_DIM_GUESSES = [32, 1];

export interface WarmupCandidatesOptions {
  /** The load's `warmup` option. */
  warmup: boolean | Feeds;
  backend: Backend;
  inputs: TensorSpec[];
  /** The registry's sample hint, when the model has one. */
  sample?: SampleHint;
  /** What the warm-up memory holds for this model version. */
  memory?: WarmupRecord;
}

/**
 * What a load's smoke run tries, in order — the caller's feeds; else the dims of the last load's first call,
 * then the registry's sample or generated guesses — and the other remembered shapes (`extras`, one run each
 * once the warm-up is steady). On WASM, generated inputs the model refused before are left out: the
 * session is fine, and it is warmed on its first call's inputs instead. On WebGPU nothing is left out: the
 * smoke run is what decides that WebGPU works for the model.
 */
export function warmupCandidates({ warmup, backend, inputs, sample, memory }: WarmupCandidatesOptions): {
  candidates: WarmupCandidate[];
  extras: WarmupCandidate[];
} {
  if (typeof warmup === 'object') return { candidates: [{ on: 'caller', dims: dimsOf(warmup), feeds: () => warmup }], extras: [] };
  const fill = sample?.fill;
  const generated = (on: WarmupCandidate['on'], dims: CallShape): WarmupCandidate => ({
    on,
    dims,
    ...(fill ? { fill } : {}),
    feeds: () => sampleFeeds(inputs, { dims, fill }),
    signature: warmupSignature(dims, fill),
  });
  const names = inputs.map((i) => i.name).sort();
  const fits = (shape: CallShape) => JSON.stringify(Object.keys(shape).sort()) === JSON.stringify(names);
  const remembered = (memory?.shapes ?? []).filter(fits).map((dims) => generated('remembered', dims));
  const guesses = sample?.dims
    ? [generated('sample', sampleDims(inputs, sample))]
    : (backend === 'webgpu' ? [1] : FREE_DIM_GUESSES).map((freeDim) => generated('sample', sampleDims(inputs, sample, freeDim)));
  const failed = new Set(backend === 'wasm' ? (memory?.failed ?? []) : []);
  const seen = new Set<string>();
  const keep = (c: WarmupCandidate) => !failed.has(c.signature!) && !seen.has(c.signature!) && !!seen.add(c.signature!);
  const candidates = [...remembered.slice(0, 1), ...guesses].filter(keep);
  return { candidates, extras: remembered.slice(1).filter(keep) };
}
