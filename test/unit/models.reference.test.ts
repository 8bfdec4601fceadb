import { readFileSync } from 'node:fs';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, describe, expect, it } from 'vitest';
import { toFloat16Bits } from '../../src/core/float16';
import { sourcePath } from '../../scripts/onnx/sourcePath';
import { findModel } from '../../src/registry/findModel';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import { parseRegistry } from '../../src/registry/parseRegistry';
import type { Feeds, TensorData } from '../../src/core/protocol';
import { makeInputs } from '../helpers/inputs';
import { closeReferenceSessions, compareOutputs, runReference } from '../helpers/reference';

const registry = parseRegistry(readFileSync('models/registry.json', 'utf8'));
const model = (id: string): ModelEntry => findModel(registry, id)!;
afterAll(closeReferenceSessions);

const f32 = (data: number[], dims = [data.length]): TensorData => ({ type: 'float32', dims, data: Float32Array.from(data) });

describe('makeInputs', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const entry = model('dtypes');
    expect(makeInputs(entry, { seed: 4 })).toEqual(makeInputs(entry, { seed: 4 }));
    expect(makeInputs(entry, { seed: 4 }).f32.data).not.toEqual(makeInputs(entry, { seed: 5 }).f32.data);
  });

  it('gives each element type its array type, and never a constant tensor', () => {
    const feeds = makeInputs(model('dtypes'));
    const arrays = Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, [t.type, t.data.constructor.name, t.dims]]));
    expect(arrays).toEqual({
      f32: ['float32', 'Float32Array', [2, 4]],
      f16: ['float16', 'Uint16Array', [2, 4]],
      i32: ['int32', 'Int32Array', [2, 4]],
      i64: ['int64', 'BigInt64Array', [2, 4]],
      u32: ['uint32', 'Uint32Array', [2, 4]],
      u8: ['uint8', 'Uint8Array', [2, 4]],
      i8: ['int8', 'Int8Array', [2, 4]],
      b: ['bool', 'Uint8Array', [2, 4]],
      scalar: ['float32', 'Float32Array', []],
    });
    for (const [name, t] of Object.entries(feeds)) {
      if (t.dims.length > 0) expect(new Set(t.data as ArrayLike<unknown> as unknown[]).size, name).toBeGreaterThan(1);
    }
    expect([...(feeds.b.data as Uint8Array)].every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('follows the registry sample hints: dims, fills and ranges', () => {
    const vad = makeInputs(model('silero-vad-v5'), { seed: 2 });
    expect(vad.input.dims).toEqual([1, 512]);
    expect(vad.state).toEqual({ type: 'float32', dims: [2, 1, 128], data: new Float32Array(256) });
    expect(vad.sr).toEqual({ type: 'int64', dims: [], data: BigInt64Array.from([16000n]) });
    const audio = [...(vad.input.data as Float32Array)];
    expect(Math.min(...audio)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...audio)).toBeLessThanOrEqual(1);
    expect(Math.max(...audio) - Math.min(...audio)).toBeGreaterThan(1);

    const det = makeInputs(model('ppocr-v4-det')).x;
    expect(det.dims).toEqual([1, 3, 320, 320]);
    const pixels = det.data as Float32Array;
    expect(pixels.every((v) => v >= -2.1179 && v <= 2.64)).toBe(true);
    expect(makeInputs(model('ppocr-v4-rec')).x.dims).toEqual([1, 3, 48, 320]);
    expect(makeInputs(model('ppocr-v2-cls')).x.dims).toEqual([1, 3, 48, 192]);
  });

  it('takes explicit dims, and refuses dims that do not fit the shape', () => {
    expect(makeInputs(model('tiny-mlp'), { dims: { x: [7, 16] } }).x.dims).toEqual([7, 16]);
    expect(makeInputs(model('dtypes'), { dims: { f32: [3, 4] } }).f32.dims).toEqual([3, 4]);
    expect(() => makeInputs(model('tiny-mlp'), { dims: { x: [1, 15] } })).toThrow(
      'makeInputs(tiny-mlp): dims [1,15] do not fit x shape ["batch",16]',
    );
  });
});

describe('compareOutputs', () => {
  it('accepts values within atol + rtol * |expected|', () => {
    expect(compareOutputs({ y: f32([1, 100]) }, { y: f32([1.00005, 100.05]) })).toEqual([]);
  });

  it('reports the count, worst element and max abs/rel error of float mismatches', () => {
    const [m] = compareOutputs({ y: f32([1, 2, 3, 4]) }, { y: f32([1, 2.5, 3, 2]) }, { atol: 1e-3, rtol: 0 });
    expect(m).toMatchObject({ name: 'y', problem: 'values', count: 2, index: 3, maxAbsError: 2, maxRelError: 1 });
    expect(m.message).toBe('y: 2 of 4 values differ; worst at 3: 4 vs 2 (max abs error 2, max rel error 1)');
  });

  it('is exact for integers, int64 and bool', () => {
    const i64 = (values: bigint[]): TensorData => ({ type: 'int64', dims: [values.length], data: BigInt64Array.from(values) });
    const bool = (values: number[]): TensorData => ({ type: 'bool', dims: [values.length], data: Uint8Array.from(values) });
    expect(compareOutputs({ a: i64([1n, 2n]), b: bool([0, 1]) }, { a: i64([1n, 2n]), b: bool([0, 1]) }, { atol: 10 })).toEqual([]);
    const mismatches = compareOutputs({ a: i64([1n, 2n]), b: bool([0, 1]) }, { a: i64([1n, 3n]), b: bool([1, 1]) }, { atol: 10 });
    expect(mismatches.map((m) => [m.name, m.count, m.maxAbsError])).toEqual([
      ['a', 1, 1],
      ['b', 1, 1],
    ]);
  });

  it('decodes float16 bits and treats NaN as equal to NaN', () => {
    const f16 = (values: number[]): TensorData => ({
      type: 'float16',
      dims: [values.length],
      data: Uint16Array.from(values, toFloat16Bits),
    });
    expect(compareOutputs({ h: f16([1, NaN, -Infinity]) }, { h: f16([1.0004, NaN, -Infinity]) })).toEqual([]);
    expect(compareOutputs({ h: f16([1, 0]) }, { h: f16([1, NaN]) })[0]).toMatchObject({ problem: 'values', count: 1, index: 1 });
  });

  it('reports missing, unexpected, retyped and reshaped outputs', () => {
    const problems = compareOutputs(
      { b: f32([1, 2], [2]), c: f32([1, 2], [1, 2]), extra: f32([1]) },
      { a: f32([1]), b: { type: 'float64', dims: [2], data: Float64Array.from([1, 2]) }, c: f32([1, 2], [2, 1]) },
    );
    expect(problems.map((p) => [p.name, p.problem])).toEqual([
      ['a', 'missing'],
      ['b', 'type'],
      ['c', 'dims'],
      ['extra', 'unexpected'],
    ]);
  });
});

describe('registry models in onnxruntime-node', () => {
  const expectedDims: Record<string, Record<string, number[]>> = {
    'ppocr-v4-det': { 'sigmoid_0.tmp_0': [1, 1, 320, 320] },
    'ppocr-v4-rec': { 'softmax_11.tmp_0': [1, 40, 6625] },
    'ppocr-v2-cls': { 'softmax_0.tmp_0': [1, 2] },
    'silero-vad-v5': { output: [1, 1], stateN: [2, 1, 128] },
  };

  it.each(Object.keys(expectedDims))('%s runs on its sample inputs', async (id) => {
    const entry = model(id);
    const out = await runReference(entry, makeInputs(entry));
    expect(Object.fromEntries(Object.entries(out).map(([name, t]) => [name, t.dims]))).toEqual(expectedDims[id]);
    for (const spec of entry.outputs) expect(out[spec.name].type).toBe(spec.type);
    for (const t of Object.values(out)) expect((t.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('silero-vad-v5: speech probability in [0, 1] and a state that carries over', async () => {
    const entry = model('silero-vad-v5');
    let feeds: Feeds = makeInputs(entry, { seed: 9 });
    const probabilities: number[] = [];
    for (let chunk = 0; chunk < 3; chunk++) {
      const out = await runReference(entry, feeds);
      probabilities.push((out.output.data as Float32Array)[0]);
      feeds = { ...makeInputs(entry, { seed: 10 + chunk }), state: out.stateN };
    }
    expect(probabilities.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect((feeds.state.data as Float32Array).some((v) => v !== 0)).toBe(true);
  });
});

describe('registry models in onnxruntime-web 1.30 (wasm, in Node) agree with onnxruntime-node', () => {
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.logLevel = 'error';

  it.each(['ppocr-v2-cls', 'silero-vad-v5', 'ppocr-v4-rec', 'ppocr-v4-det'])('%s', async (id) => {
    const entry = model(id);
    const feeds = makeInputs(entry, { seed: 21 });
    const session = await ortWeb.InferenceSession.create(readFileSync(sourcePath(entry)));
    try {
      const inputs = Object.fromEntries(
        Object.entries(feeds).map(([name, t]) => [name, new ortWeb.Tensor(t.type, t.data as never, t.dims)]),
      );
      const results = await session.run(inputs);
      const actual: Feeds = {};
      for (const [name, t] of Object.entries(results))
        actual[name] = { type: 'float32', dims: [...t.dims], data: (t.data as Float32Array).slice() };
      expect(compareOutputs(actual, await runReference(entry, feeds), { atol: 1e-4, rtol: 1e-3 })).toEqual([]);
    } finally {
      await session.release();
    }
  });
});
