import { loadOrt } from '../node/loadOrt';
import type { LabelledExample } from './FieldSample';
import { ownValue } from '../core/ownValue';

export interface Accuracy {
  accuracy: number;
  correct: number;
  count: number;
}

const BATCH = 256;

/**
 * Accuracy of a classifier on `examples` with onnxruntime-node: the class is the arg-max of the first
 * output's last axis, compared with the label (a number, or a string of one). Examples are batched along
 * the first axis of each input (every example is one row: dims `[1, …]`).
 */
export async function evaluateClassifier(onnx: Uint8Array, examples: readonly LabelledExample[]): Promise<Accuracy> {
  if (examples.length === 0) return { accuracy: Number.NaN, correct: 0, count: 0 };
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(onnx);
  try {
    const outputName = session.outputNames[0];
    let correct = 0;
    for (let start = 0; start < examples.length; start += BATCH) {
      const batch = examples.slice(start, start + BATCH);
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const name of session.inputNames) {
        const first = ownValue(batch[0].inputs, name);
        if (!first) throw new Error(`example has no input ${JSON.stringify(name)} (has ${Object.keys(batch[0].inputs).join(', ')})`);
        const rowLength = first.data.length;
        const data = new Float32Array(rowLength * batch.length);
        batch.forEach((e, i) => {
          const t = ownValue(e.inputs, name);
          if (!t || t.data.length !== rowLength)
            throw new Error(`input ${name} of example ${start + i} has ${t?.data.length ?? 0} values, expected ${rowLength}`);
          data.set(t.data, i * rowLength);
        });
        feeds[name] = new ort.Tensor('float32', data, [batch.length, ...first.dims.slice(1)]);
      }
      const out = (await session.run(feeds))[outputName];
      const scores = out.data as Float32Array;
      const classes = out.dims[out.dims.length - 1];
      batch.forEach((e, i) => {
        let best = 0;
        for (let c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
        if (Number(e.label) === best) correct++;
      });
    }
    return { accuracy: correct / examples.length, correct, count: examples.length };
  } finally {
    await session.release();
  }
}
