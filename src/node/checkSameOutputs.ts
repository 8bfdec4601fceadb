import type { Feeds } from '../core/protocol';
import { OnDeviceError } from '../core/OnDeviceError';
import { fromOrtOutputs } from './fromOrtOutputs';
import { loadOrt } from './loadOrt';
import { toOrtFeeds } from './toOrtFeeds';

/**
 * Run an original model and its pre-optimised copy (paths or bytes) on `feeds` with onnxruntime-node and throw
 * INFERENCE_FAILED when an output differs: float outputs beyond |a − e| ≤ 1e-4 + 1e-3·|e| (fusions reorder float
 * arithmetic), other types at all, or a type or shape. Returns the largest absolute float difference.
 * `label` names the model in the message (`tiny-mlp@2`).
 */
export async function checkSameOutputs(
  original: string | Uint8Array,
  copy: string | Uint8Array,
  feeds: Feeds,
  label: string,
): Promise<number> {
  const expected = await runOnce(original, feeds, `${label}: the original did not run on the sample inputs`);
  const actual = await runOnce(copy, feeds, `${label}: the optimised copy did not run on the sample inputs`);
  let worst = 0;
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    const where = `${label} output ${name}`;
    if (!a || a.type !== e.type || a.dims.join() !== e.dims.join())
      throw new OnDeviceError('INFERENCE_FAILED', `${where}: the optimised copy's output differs in type or shape`, { output: name });
    for (let i = 0; i < e.data.length; i++) {
      const [x, y] = [a.data[i], e.data[i]];
      if (typeof x === 'number' && typeof y === 'number' && (e.type === 'float32' || e.type === 'float64')) {
        const diff = Math.abs(x - y);
        worst = Math.max(worst, diff);
        if (!(diff <= 1e-4 + 1e-3 * Math.abs(y)))
          throw new OnDeviceError('INFERENCE_FAILED', `${where}[${i}]: ${x} vs ${y} in the original`, { output: name, index: i });
      } else if (x !== y)
        throw new OnDeviceError('INFERENCE_FAILED', `${where}[${i}]: ${String(x)} vs ${String(y)} in the original`, {
          output: name,
          index: i,
        });
    }
  }
  return worst;
}

async function runOnce(model: string | Uint8Array, feeds: Feeds, failure: string): Promise<Feeds> {
  const ort = await loadOrt();
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  try {
    const session =
      typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
    try {
      return fromOrtOutputs(await session.run(toOrtFeeds(ort, feeds)));
    } finally {
      await session.release();
    }
  } catch (error) {
    throw new OnDeviceError('INFERENCE_FAILED', `${failure}: ${(error as Error).message}`, {}, { cause: error });
  }
}
