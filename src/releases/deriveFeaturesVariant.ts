import type { TensorSpec } from '../core/protocol';
import { OnDeviceError } from '../core/OnDeviceError';
import { sampleFeeds, type SampleHint } from '../core/sampleFeeds';
import { checkSameOutputs } from '../node/checkSameOutputs';
import { fromOrtOutputs } from '../node/fromOrtOutputs';
import { loadOrt } from '../node/loadOrt';
import { readTrainableHead, withFeaturesOutput, type TrainableHead, type TrainableSpec } from '../node/onnx/trainableHead';
import { toOrtFeeds } from '../node/toOrtFeeds';

/** A version's features variant: its bytes, and the head it was derived for (without its weights). */
export interface FeaturesVariant {
  bytes: Uint8Array;
  head: Omit<TrainableHead, 'weightValues' | 'biasValues'>;
}

/**
 * The variant of a trainable model that also outputs `features` (federated clients compute features with it):
 * the head is found (readTrainableHead; a model without it throws with the reason), the output added, and the
 * variant checked with onnxruntime-node on sample inputs: its outputs are the model's, and `features` is
 * float32 [N, F]. The model itself is not changed.
 */
export async function deriveFeaturesVariant(
  bytes: Uint8Array,
  spec: TrainableSpec,
  release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
): Promise<FeaturesVariant> {
  const { weightValues: _w, biasValues: _b, ...head } = readTrainableHead(bytes, spec);
  const variant = withFeaturesOutput(bytes, head);
  const feeds = sampleFeeds(release.inputs, (release.sample ?? {}) as SampleHint);
  const label = `${release.id}@${release.version}`;
  await checkSameOutputs(bytes, variant, feeds, `${label} features variant`);
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(variant, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = fromOrtOutputs(await session.run(toOrtFeeds(ort, feeds), [head.features]));
    const features = out[head.features];
    if (!features || features.type !== 'float32' || features.dims.length !== 2 || features.dims[1] !== head.featureCount)
      throw new OnDeviceError(
        'INFERENCE_FAILED',
        `${label}: ${head.features} must be float32 [N, ${head.featureCount}], is ${features?.type} [${features?.dims.join(', ')}]`,
      );
  } finally {
    await session.release();
  }
  return { bytes: variant, head };
}
