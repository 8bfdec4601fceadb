import { loadOrt } from '../node/loadOrt';
import type { LabelledExample } from '../retrain/FieldSample';

const BATCH = 256;

/**
 * The `features` output of a features variant on labelled examples, with onnxruntime-node: `[count, F]` row-major,
 * and the labels as class indices (an example whose label is not an integer gets -1). Examples are batched along
 * the first axis of each input, as evaluateClassifier does.
 */
export async function computeFeatures(
  variant: Uint8Array,
  examples: readonly LabelledExample[],
  featuresName: string,
  featureCount: number,
): Promise<{ features: Float32Array; labels: Int32Array }> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(variant, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const features = new Float32Array(examples.length * featureCount);
    for (let start = 0; start < examples.length; start += BATCH) {
      const batch = examples.slice(start, start + BATCH);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const name of session.inputNames) {
        const first = batch[0].inputs[name];
        if (!first) throw new Error(`example has no input ${JSON.stringify(name)}`);
        const row = first.data.length;
        const data = new Float32Array(row * batch.length);
        batch.forEach((e, i) => data.set(e.inputs[name].data, i * row));
        feeds[name] = new ort.Tensor('float32', data, [batch.length, ...first.dims.slice(1)]);
      }
      const out = (await session.run(feeds, [featuresName]))[featuresName];
      if (out.dims.length !== 2 || out.dims[0] !== batch.length || out.dims[1] !== featureCount)
        throw new Error(`${featuresName} is [${out.dims.join(', ')}], expected [${batch.length}, ${featureCount}]`);
      features.set(out.data as Float32Array, start * featureCount);
    }
    const labels = Int32Array.from(examples, (e) => (Number.isInteger(Number(e.label)) ? Number(e.label) : -1));
    return { features, labels };
  } finally {
    await session.release();
  }
}
