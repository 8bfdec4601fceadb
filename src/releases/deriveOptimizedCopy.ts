import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { checkSameOutputs } from '../node/checkSameOutputs';
import { onnxruntimeVersion, optimizeModelBytes } from '../node/optimizeModel';

/** A published version's pre-optimised copy: its bytes and the onnxruntime version that wrote them. */
export interface OptimizedCopy {
  bytes: Uint8Array;
  onnxruntime: string;
}

/**
 * The `extended` copy of uploaded model bytes (the same writer as `npm run models:optimize`), checked with
 * onnxruntime-node to compute the upload's outputs on sample inputs (the version's sample hint, else
 * deterministic ones); throws when it cannot be written or differs. The upload itself is not changed.
 */
export async function deriveOptimizedCopy(
  bytes: Uint8Array,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
): Promise<OptimizedCopy> {
  const copy = await optimizeModelBytes(bytes, 'extended');
  const feeds = sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint);
  await checkSameOutputs(bytes, copy, feeds, `${release.id}@${release.version}`);
  return { bytes: copy, onnxruntime: await onnxruntimeVersion() };
}
