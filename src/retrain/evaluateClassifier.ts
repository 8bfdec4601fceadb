import { loadOrt, type Ort } from '../node/loadOrt';
import type { PackedExamples } from './packExamples';

export interface Accuracy {
  accuracy: number;
  correct: number;
  count: number;
}

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

const BATCH = 256;

/**
 * Accuracy of a classifier session on packed examples with onnxruntime-node: the class is the arg-max of the first
 * output's last axis, compared with the label (a number, or a string of one). Examples run in batches along the
 * first axis. Runs the model: call it only inside a sandbox child (evaluateInSandbox).
 */
export async function evaluateClassifier(session: Session, examples: PackedExamples): Promise<Accuracy> {
  if (examples.count === 0) return { accuracy: Number.NaN, correct: 0, count: 0 };
  const ort = await loadOrt();
  const outputName = session.outputNames[0];
  let correct = 0;
  for (let start = 0; start < examples.count; start += BATCH) {
    const rows = Math.min(BATCH, examples.count - start);
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const name of session.inputNames) {
      const input = Object.hasOwn(examples.inputs, name) ? examples.inputs[name] : undefined;
      if (!input) throw new Error(`example has no input ${JSON.stringify(name)} (has ${Object.keys(examples.inputs).join(', ')})`);
      const rowLength = input.data.length / examples.count;
      const data = input.data.subarray(start * rowLength, (start + rows) * rowLength);
      feeds[name] = new ort.Tensor('float32', data, [rows, ...input.rowDims]);
    }
    const out = (await session.run(feeds))[outputName];
    const scores = out.data as Float32Array;
    const classes = out.dims[out.dims.length - 1];
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (scores[i * classes + c] > scores[i * classes + best]) best = c;
      if (Number(examples.labels[start + i]) === best) correct++;
    }
  }
  return { accuracy: correct / examples.count, correct, count: examples.count };
}
