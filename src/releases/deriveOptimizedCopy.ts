import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TensorSpec } from '../core/protocol';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { writeOptimizedCopyInSandbox, type SandboxSettings } from '../sandbox';
import { withModelOnDisk } from './withModelOnDisk';

/** A published version's pre-optimised copy: its bytes and the onnxruntime version that wrote them. */
export interface OptimizedCopy {
  bytes: Uint8Array;
  onnxruntime: string;
}

/**
 * The `extended` copy of uploaded model bytes (the same writer as `npm run models:optimize`), checked with
 * onnxruntime-node to compute the upload's outputs on sample inputs (the version's sample hint, else
 * deterministic ones); throws when it cannot be written or differs. The upload itself is not changed. All of it
 * runs in a sandbox child: running the upload past the sandbox limits is TIMEOUT or OUT_OF_MEMORY with
 * `details.reason` `'TIMEOUT'` | `'MEMORY'`.
 */
export function deriveOptimizedCopy(
  bytes: Uint8Array,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  settings?: SandboxSettings,
): Promise<OptimizedCopy> {
  return withModelOnDisk(bytes, async (files, dir) => {
    const to = path.join(dir, 'model.extended.onnx');
    const feeds = sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint);
    const { onnxruntime } = await writeOptimizedCopyInSandbox(files, to, feeds, {
      level: 'extended',
      label: `${release.id}@${release.version}`,
      settings,
    });
    return { bytes: new Uint8Array(await readFile(to)), onnxruntime };
  });
}
