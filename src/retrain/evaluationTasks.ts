// Child side: a retraining job's evaluation, run only inside a sandbox child (evaluateInSandbox). The candidate is a
// model a trainer wrote, the current version one someone published: neither runs on the server's thread.
import { loadOrt } from '../node/loadOrt';
import { evaluateClassifier, type Accuracy } from './evaluateClassifier';
import type { PackedExamples } from './packExamples';

// Loaded before the server's first call arrives: onnxruntime-node's import is most of a child's start.
await loadOrt();

type Versions<T> = { current: T; candidate: T };

export const tasks = {
  /** Both versions' accuracy on the base set and on the held-back field slice. */
  async evaluate(a: { models: Versions<string>; base: PackedExamples; field: PackedExamples }): Promise<{
    base: Versions<Accuracy>;
    field: Versions<Accuracy>;
  }> {
    const ort = await loadOrt();
    const accuracy = async (file: string) => {
      const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      try {
        return { base: await evaluateClassifier(session, a.base), field: await evaluateClassifier(session, a.field) };
      } finally {
        await session.release();
      }
    };
    const current = await accuracy(a.models.current);
    const candidate = await accuracy(a.models.candidate);
    return { base: { current: current.base, candidate: candidate.base }, field: { current: current.field, candidate: candidate.field } };
  },

  /**
   * A features variant's `features` output (federated fine-tuning's base training set): [count, featureCount]
   * row-major, in batches along the first axis.
   */
  async features(a: { model: string; examples: PackedExamples; features: string; featureCount: number }): Promise<Float32Array> {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(a.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const out = new Float32Array(a.examples.count * a.featureCount);
      for (let start = 0; start < a.examples.count; start += 256) {
        const rows = Math.min(256, a.examples.count - start);
        const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
        for (const name of session.inputNames) {
          const input = Object.hasOwn(a.examples.inputs, name) ? a.examples.inputs[name] : undefined;
          if (!input) throw new Error(`example has no input ${JSON.stringify(name)}`);
          const rowLength = input.data.length / a.examples.count;
          feeds[name] = new ort.Tensor('float32', input.data.subarray(start * rowLength, (start + rows) * rowLength), [
            rows,
            ...input.rowDims,
          ]);
        }
        const f = (await session.run(feeds, [a.features]))[a.features];
        if (f.dims.length !== 2 || f.dims[0] !== rows || f.dims[1] !== a.featureCount)
          throw new Error(`${a.features} is [${f.dims.join(', ')}], expected [${rows}, ${a.featureCount}]`);
        out.set(f.data as Float32Array, start * a.featureCount);
      }
      return out;
    } finally {
      await session.release();
    }
  },
};
