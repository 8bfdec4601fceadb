import { readFileSync } from 'node:fs';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { fromFloat16Bits } from '../../src/core/float16';
import { GENERATED_MODELS } from '../../scripts/onnx/generatedModels';
import { sourcePath } from '../../scripts/onnx/sourcePath';
import { tinyMlpReference } from '../../scripts/onnx/models/tinyMlpModel';
import { findModel } from '../../src/registry/findModel';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import { parseRegistry } from '../../src/registry/parseRegistry';
import type { Feeds } from '../../src/core/protocol';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';

const registry = parseRegistry(readFileSync('models/registry.json', 'utf8'));
const model = (id: string): ModelEntry => {
  const entry = findModel(registry, id);
  if (!entry) throw new Error(`${id} is not in models/registry.json`);
  return entry;
};

afterAll(closeReferenceSessions);

describe('generated models in onnxruntime-node', () => {
  it('dtypes: every element type through its op', async () => {
    const entry = model('dtypes');
    const feeds = makeInputs(entry, { seed: 3 });
    const out = await runReference(entry, feeds);
    expect(Object.keys(out).sort()).toEqual(entry.outputs.map((o) => o.name).sort());
    expect(Array.from(out.f32_times_2.data as Float32Array)).toEqual(Array.from(feeds.f32.data as Float32Array, (v) => v * 2));
    expect(out.f16_identity).toEqual({ type: 'float16', dims: [2, 4], data: feeds.f16.data });
    expect(Array.from(out.i32_plus_1.data as Int32Array)).toEqual(Array.from(feeds.i32.data as Int32Array, (v) => v + 1));
    expect(Array.from(out.i64_plus_1.data as BigInt64Array)).toEqual(Array.from(feeds.i64.data as BigInt64Array, (v) => v + 1n));
    for (const name of ['u32', 'u8', 'i8']) expect(out[`${name}_identity`]).toEqual(feeds[name]);
    expect(Array.from(out.b_not.data as Uint8Array)).toEqual(Array.from(feeds.b.data as Uint8Array, (v) => 1 - v));
    expect(out.scalar_neg).toEqual({ type: 'float32', dims: [], data: Float32Array.from([-(feeds.scalar.data as Float32Array)[0]]) });
    // The fed values really vary (a constant feed would hide a broken op).
    expect(new Set(feeds.b.data as Uint8Array).size).toBe(2);
    expect(new Set(Array.from(feeds.f16.data as Uint16Array, fromFloat16Bits)).size).toBeGreaterThan(4);
  });

  it('dtypes: the batch dim is symbolic', async () => {
    const entry = model('dtypes');
    const dims = Object.fromEntries(entry.inputs.filter((i) => i.shape.length === 2).map((i) => [i.name, [5, 4]]));
    const out = await runReference(entry, makeInputs(entry, { dims }));
    expect(out.i64_plus_1.dims).toEqual([5, 4]);
  });

  it('counter: feeding state_out back accumulates over 3 steps', async () => {
    const entry = model('counter');
    const x = Float32Array.from([1, 2, 3, 4]);
    let state: Feeds['state'] = { type: 'float32', dims: [1, 4], data: new Float32Array(4) };
    const ys: number[][] = [];
    for (let step = 0; step < 3; step++) {
      const out = await runReference(entry, { x: { type: 'float32', dims: [1, 4], data: x }, state });
      ys.push(Array.from(out.y.data as Float32Array));
      state = out.state_out;
    }
    expect(ys).toEqual([
      [1, 2, 3, 4],
      [2, 4, 6, 8],
      [3, 6, 9, 12],
    ]);
    expect(Array.from(state.data as Float32Array)).toEqual([3, 6, 9, 12]);
  });

  it('tiny-mlp: matches the same network computed in JS', async () => {
    const entry = model('tiny-mlp');
    const feeds = makeInputs(entry, { seed: 5, dims: { x: [3, 16] } });
    const out = await runReference(entry, feeds);
    expect(out.probs.dims).toEqual([3, 4]);
    const expected = {
      probs: { type: 'float32' as const, dims: [3, 4], data: Float32Array.from(tinyMlpReference(feeds.x.data as Float32Array, 3)) },
    };
    expect(compareOutputs(out, expected, { atol: 1e-6, rtol: 1e-5 })).toEqual([]);
    const probs = Array.from(out.probs.data as Float32Array);
    for (let r = 0; r < 3; r++) expect(probs.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // Not a degenerate classifier: the rows do not all pick the same probabilities.
    expect(new Set(probs.map((p) => p.toFixed(4))).size).toBeGreaterThan(4);
  });
});

describe('generated models on disk', () => {
  it.each(GENERATED_MODELS.map((m) => [m.entry.id, m] as const))(
    '%s: models/generated matches its generator and registry entry',
    (id, generated) => {
      const entry = model(id);
      const bytes = generated.build();
      expect(Buffer.from(readFileSync(sourcePath(entry))).equals(Buffer.from(bytes)), 'run npm run models:generate').toBe(true);
      expect(entry).toMatchObject(generated.entry);
    },
  );
});

describe('generated models in onnxruntime-web 1.30 (wasm, in Node)', () => {
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.logLevel = 'error';

  it.each(GENERATED_MODELS.map((m) => [m.entry.id] as const))(
    '%s: loads with the declared IO and agrees with onnxruntime-node',
    async (id) => {
      const entry = model(id);
      const session = await ortWeb.InferenceSession.create(readFileSync(sourcePath(entry)));
      try {
        expect(
          session.inputMetadata.map((m) => ({ name: m.name, type: m.isTensor ? m.type : '', shape: m.isTensor ? m.shape : [] })),
        ).toEqual(entry.inputs);
        const feeds = makeInputs(entry, { seed: 11 });
        const inputs = Object.fromEntries(
          Object.entries(feeds).map(([name, t]) => [name, new ortWeb.Tensor(t.type, t.data as never, t.dims)]),
        );
        const results = await session.run(inputs);
        const actual: Feeds = {};
        for (const [name, t] of Object.entries(results)) {
          actual[name] = { type: t.type, dims: [...t.dims], data: (t.data as Float32Array).slice() } as Feeds[string];
        }
        expect(compareOutputs(actual, await runReference(entry, feeds), { atol: 1e-6, rtol: 1e-5 })).toEqual([]);
      } finally {
        await session.release();
      }
    },
  );
});
