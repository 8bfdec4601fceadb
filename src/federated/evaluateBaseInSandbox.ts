import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SandboxSettings } from '../sandbox';
import type { Accuracy } from '../retrain/evaluateClassifier';
import { evaluateInSandbox } from '../retrain/evaluateInSandbox';
import type { LabelledExample } from '../retrain/FieldSample';

/** Both versions' accuracy on the base evaluation set, in a sandbox child (a federated job's field figures come from the clients). */
export async function evaluateBaseInSandbox(
  models: { current: Uint8Array; candidate: Uint8Array },
  examples: readonly LabelledExample[],
  settings?: SandboxSettings,
): Promise<{ current: Accuracy; candidate: Accuracy }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ondevice-federated-'));
  try {
    const current = path.join(dir, 'current.onnx');
    const candidate = path.join(dir, 'candidate.onnx');
    await writeFile(current, models.current);
    await writeFile(candidate, models.candidate);
    return (await evaluateInSandbox({ models: { current, candidate }, base: examples, field: [], settings })).base;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
