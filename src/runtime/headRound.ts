import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';
import { headCorrect } from '../core/federated/SoftmaxHead';
import { trainHeadLocally } from '../core/federated/trainHeadLocally';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds, HeadRoundRequest, HeadRoundResult } from '../core/protocol';
import { toOrtFeeds } from './tensors';

type OrtModule = typeof import('onnxruntime-web');

/** Examples per session run when they can be stacked along the batch axis. */
const STACK = 64;

/**
 * A federated round on this device: the features variant runs on every example (stacked along the batch
 * axis where each example is one row), then the head is trained from the round's weights on the examples
 * that are not held back (train), and the held-back ones are scored with the round's head and with the
 * model's own output. The rest of the model stays frozen: its features are inputs to the head.
 */
export async function headRound(ort: OrtModule, session: InferenceSession, request: HeadRoundRequest): Promise<HeadRoundResult> {
  const { featureCount: F, classes: C } = request.head;
  const n = request.examples.length;
  const features = new Float32Array(n * F);
  const current = new Int32Array(n);
  for (const group of stackable(request.examples.map((e) => e.feeds))) {
    const out = await session.run(toOrtFeeds(ort, group.feeds), [request.features, request.output]);
    try {
      const f = out[request.features];
      const p = out[request.output];
      if (!f || f.type !== 'float32' || f.dims.length !== 2 || f.dims[0] !== group.rows.length || f.dims[1] !== F)
        throw new OnDeviceError('INFERENCE_FAILED', `the model's ${request.features} is not float32 [${group.rows.length}, ${F}]`, {
          dims: f?.dims,
        });
      if (!p || p.dims[p.dims.length - 1] !== C || p.size !== group.rows.length * C)
        throw new OnDeviceError('INFERENCE_FAILED', `the model's ${request.output} does not have ${C} classes per row`, { dims: p?.dims });
      const fd = f.data as Float32Array;
      const pd = p.data as Float32Array;
      group.rows.forEach((row, k) => {
        features.set(fd.subarray(k * F, (k + 1) * F), row * F);
        let best = 0;
        for (let c = 1; c < C; c++) if (pd[k * C + c] > pd[k * C + best]) best = c;
        current[row] = best;
      });
    } finally {
      for (const t of Object.values(out) as OrtTensor[]) t.dispose();
    }
  }
  const rows = (held: boolean) => request.examples.flatMap((e, i) => (e.heldBack === held ? [i] : []));
  const pick = (indices: number[]) => {
    const f = new Float32Array(indices.length * F);
    indices.forEach((i, k) => f.set(features.subarray(i * F, (i + 1) * F), k * F));
    return { features: f, labels: indices.map((i) => request.examples[i].label) };
  };
  const head = { featureCount: F, classes: C, weight: request.head.weight, bias: request.head.bias };
  const heldRows = rows(true);
  const held = pick(heldRows);
  const result: HeadRoundResult = {
    heldBack: {
      examples: heldRows.length,
      correctRoundHead: headCorrect(head, held),
      correctCurrent: heldRows.filter((i) => current[i] === request.examples[i].label).length,
    },
  };
  if (request.kind === 'train') {
    const train = pick(rows(false));
    const update = trainHeadLocally(head, train, {
      epochs: request.epochs,
      learningRate: request.learningRate,
      batchSize: request.batchSize,
      seed: request.seed,
    });
    result.train = {
      dW: Float32Array.from(update.dW),
      db: Float32Array.from(update.db),
      examples: train.labels.length,
      lossBefore: update.lossBefore,
    };
  }
  return result;
}

/** Runs of examples whose every input is one row (dims[0] = 1) of the same shape, stacked; others alone. */
function* stackable(all: Feeds[]): Generator<{ feeds: Feeds; rows: number[] }> {
  const shapeOf = (feeds: Feeds) =>
    Object.entries(feeds)
      .map(([name, t]) => `${name}:${t.type}:${t.dims.join('x')}`)
      .sort()
      .join('|');
  const oneRow = (feeds: Feeds) => Object.values(feeds).every((t) => t.dims[0] === 1 && t.type !== 'string');
  let i = 0;
  while (i < all.length) {
    if (!oneRow(all[i])) {
      yield { feeds: all[i], rows: [i] };
      i++;
      continue;
    }
    const shape = shapeOf(all[i]);
    const rows = [i];
    while (rows.length < STACK && i + rows.length < all.length && oneRow(all[i + rows.length]) && shapeOf(all[i + rows.length]) === shape)
      rows.push(i + rows.length);
    const feeds: Feeds = {};
    for (const [name, first] of Object.entries(all[i])) {
      const width = (first.data as ArrayLike<number>).length;
      const Ctor = (first.data as unknown as { constructor: new (n: number) => { set(a: ArrayLike<number>, at: number): void } })
        .constructor;
      const data = new Ctor(width * rows.length);
      rows.forEach((row, k) => data.set(all[row][name].data as ArrayLike<number>, k * width));
      feeds[name] = { type: first.type, data, dims: [rows.length, ...first.dims.slice(1)] } as Feeds[string];
    }
    yield { feeds, rows };
    i += rows.length;
  }
}
