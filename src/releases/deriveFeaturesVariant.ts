import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { readTrainableHead, withFeaturesOutput, type TrainableHead, type TrainableSpec } from '../node/onnx/trainableHead';
import { checkFeaturesVariantInSandbox, type SandboxSettings } from '../sandbox';
import { withModelOnDisk } from './withModelOnDisk';

/** A version's features variant: its bytes, and the head it was derived for (without its weights). */
export interface FeaturesVariant {
  bytes: Uint8Array;
  head: Omit<TrainableHead, 'weightValues' | 'biasValues'>;
}

/**
 * The variant of a trainable model that also outputs `features` (federated clients compute features with it):
 * the head is found in the graph (readTrainableHead; a model without it throws with the reason), the output added
 * (both by reading and writing protobuf, never by running the model), and the variant checked in a sandbox child
 * on sample inputs: its outputs are the model's, and `features` is float32 [N, F]. The model itself is not changed.
 */
export async function deriveFeaturesVariant(
  bytes: Uint8Array,
  spec: TrainableSpec,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  settings?: SandboxSettings,
): Promise<FeaturesVariant> {
  const { weightValues: _w, biasValues: _b, ...head } = readTrainableHead(bytes, spec);
  const variant = withFeaturesOutput(bytes, head);
  await withModelOnDisk(bytes, async (files, dir) => {
    const file = path.join(dir, 'model.features.onnx');
    await writeFile(file, variant);
    await checkFeaturesVariantInSandbox(files, file, sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint), {
      features: head.features,
      featureCount: head.featureCount,
      label: `${release.id}@${release.version}`,
      settings,
    });
  });
  return { bytes: variant, head };
}
