// The transformer-shaped fixture generator (scripts/onnx/transformer): sets of the size asked for, spread over the
// shards asked for, deterministic, and loadable by onnxruntime-node from the model's folder in every precision.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelTensors } from '../../src/core/onnx/readExternalData';
import { writeTransformerModel } from '../../scripts/onnx/transformer/writeTransformerModel';
import { toFloat16Bits } from '../../src/core/float16';

const temp = mkdtempSync(join(tmpdir(), 'ondevice-transformer-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('writeTransformerModel', () => {
  it.each([
    ['fp32', 'fp32'],
    ['fp16', 'fp32'],
    ['fp16', 'fp16'],
    ['int8', 'fp32'],
  ] as const)('%s weights, %s input/output: the size asked for, in 3 shards, and onnxruntime-node runs it', async (precision, io) => {
    const dir = join(temp, `${precision}-${io}`);
    const set = writeTransformerModel({ dir, bytes: 4e6, shards: 3, precision, io, hidden: 64 });
    expect(Math.abs(set.totalBytes - 4e6)).toBeLessThan(4096);
    expect(set.files).toHaveLength(3);
    for (const f of set.files) expect(statSync(f.path).size).toBe(f.bytes);
    expect(set.modelBytes).toBe(statSync(set.model).size);
    const types = new Set(readModelTensors(readFileSync(set.model)).external.map((r) => r.dataType));
    expect([...types]).toEqual([{ fp32: 1, fp16: 10, int8: 3 }[precision]]);

    const session = await ort.InferenceSession.create(set.model);
    try {
      const values = Array.from({ length: 4 * set.hidden }, (_, i) => Math.sin(i));
      const input =
        io === 'fp16'
          ? new ort.Tensor('float16', Uint16Array.from(values, toFloat16Bits), [1, 4, set.hidden])
          : new ort.Tensor('float32', Float32Array.from(values), [1, 4, set.hidden]);
      const { logits } = await session.run({ input });
      expect(logits.dims).toEqual([1, 4, set.vocab]);
      expect(logits.type).toBe(io === 'fp16' ? 'float16' : 'float32');
      if (io === 'fp32') expect((logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      await session.release();
    }
  });

  it('is deterministic per seed, names shards as asked, and keeps everything inline with shards: 0', () => {
    const a = writeTransformerModel({ dir: join(temp, 'a'), bytes: 1e6, shards: 2, hidden: 64, locations: ['onnx::MatMul_12', 'w/b.bin'] });
    const b = writeTransformerModel({ dir: join(temp, 'b'), bytes: 1e6, shards: 2, hidden: 64, locations: ['onnx::MatMul_12', 'w/b.bin'] });
    const c = writeTransformerModel({ dir: join(temp, 'c'), bytes: 1e6, shards: 2, hidden: 64, seed: 2 });
    expect(a.files.map((f) => [f.location, f.sha256])).toEqual(b.files.map((f) => [f.location, f.sha256]));
    expect(a.modelSha256).toBe(b.modelSha256);
    expect(c.files[0].sha256).not.toBe(a.files[0].sha256);
    const single = writeTransformerModel({ dir: join(temp, 'single'), bytes: 1e6, shards: 0, hidden: 64 });
    expect(single.files).toEqual([]);
    expect(readModelTensors(readFileSync(single.model)).external).toEqual([]);
    expect(Math.abs(single.totalBytes - 1e6)).toBeLessThan(8192);
  });
});
