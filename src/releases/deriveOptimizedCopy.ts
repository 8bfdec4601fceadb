import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { writeOptimizedCopyInSandbox, type SandboxSettings } from '../sandbox';
import type { AssembledSet } from './ReleaseFileCache';

/**
 * Write the `extended` copy of an uploaded single-file model to `to` (the same writer as `npm run models:optimize`),
 * checked with onnxruntime-node to compute the upload's outputs on sample inputs (the version's sample hint, else
 * deterministic ones); throws when it cannot be written or differs. The upload itself is not changed. All of it
 * runs in a sandbox child: running the upload past the sandbox limits is TIMEOUT or OUT_OF_MEMORY with
 * `details.reason` `'TIMEOUT'` | `'MEMORY'`.
 */
export function deriveOptimizedCopy(
  set: AssembledSet,
  to: string,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  settings?: SandboxSettings,
): Promise<{ onnxruntime: string }> {
  const feeds = sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint);
  return writeOptimizedCopyInSandbox({ onnx: set.onnx }, to, feeds, {
    level: 'extended',
    label: `${release.id}@${release.version}`,
    settings,
  });
}
