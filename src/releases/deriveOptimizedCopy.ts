import type { TensorSpec } from '../core/protocol';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import type { AssembledSet } from './ReleaseFileCache';
import { publishCheckTimeoutMs } from './inspectModelSet';
import { runPublishTask } from './runPublishTask';

/**
 * Write the `extended` copy of an uploaded single-file model to `to` (the same writer as `npm run models:optimize`)
 * and check with onnxruntime-node that it computes the upload's outputs on sample inputs (the version's sample
 * hint, else deterministic ones), in a child process; throws when it cannot be written or differs. The upload
 * itself is not changed.
 */
export async function deriveOptimizedCopy(
  set: AssembledSet,
  to: string,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
): Promise<{ onnxruntime: string }> {
  const feeds = sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint);
  const label = `${release.id}@${release.version}`;
  return runPublishTask('optimizedCopy', { onnx: set.onnx, to, feeds, label }, { timeoutMs: publishCheckTimeoutMs(set.bytes), label });
}
