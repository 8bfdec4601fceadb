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
};
