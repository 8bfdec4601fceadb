import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/node/onnx/encodeModel';
import { fromFloat16Bits, toFloat16Bits } from '../../src/core/float16';
import { mulberry32 } from '../../src/core/mulberry32';
import { ProtobufWriter } from '../../src/node/onnx/ProtobufWriter';
import { looksLikeModel } from '../../src/core/looksLikeModel';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('ProtobufWriter', () => {
  it('encodes varints as in the protobuf spec', () => {
    expect(hex(new ProtobufWriter().varint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtobufWriter().varint(2, 300).finish())).toBe('10ac02');
    expect(hex(new ProtobufWriter().varint(1, 0).finish())).toBe('0800');
    // Negative int64: ten bytes, two's complement.
    expect(hex(new ProtobufWriter().varint(1, -1).finish())).toBe('08ffffffffffffffffff01');
    expect(hex(new ProtobufWriter().varint(1, 2n ** 40n).finish())).toBe('08808080808020');
  });

  it('encodes strings, nested messages, packed repeats and floats', () => {
    expect(hex(new ProtobufWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    expect(hex(new ProtobufWriter().message(3, (m) => m.varint(1, 150)).finish())).toBe('1a03089601');
    expect(hex(new ProtobufWriter().packedVarints(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
    expect(hex(new ProtobufWriter().float(2, 1).finish())).toBe('150000803f');
  });

  it('rejects unsafe numbers and bad field numbers', () => {
    expect(() => new ProtobufWriter().varint(1, 2 ** 60)).toThrow(/safe integer/);
    expect(() => new ProtobufWriter().varint(0, 1)).toThrow(/field number/);
  });
});

describe('float16', () => {
  it('converts exactly representable values both ways', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
    ];
    for (const [value, bits] of cases) {
      expect(toFloat16Bits(value)).toBe(bits);
      expect(Object.is(fromFloat16Bits(bits), value)).toBe(true);
    }
    expect(fromFloat16Bits(toFloat16Bits(NaN))).toBeNaN();
  });

  it('rounds half to even and overflows to infinity', () => {
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie, even stays
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie, odd rounds up
    expect(toFloat16Bits(65520)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -26)).toBe(0); // below half the smallest subnormal
    expect(toFloat16Bits(3 * 2 ** -26)).toBe(0x0001);
  });

  it('round-trips every finite float16', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) !== 0x7c00 && toFloat16Bits(fromFloat16Bits(bits)) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });
});

describe('mulberry32', () => {
  it('is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const first = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(first);
    expect(mulberry32(8)()).not.toBe(first[0]);
    expect(first.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

describe('encodeModel', () => {
  const model = () =>
    encodeModel({
      irVersion: 8,
      opsets: [{ domain: '', version: 17 }],
      producerName: 'test',
      producerVersion: '0',
      metadata: { purpose: 'unit test' },
      graph: {
        name: 'g',
        inputs: [{ name: 'x', type: 'float32', shape: ['n', 3] }],
        outputs: [{ name: 'y', type: 'float32', shape: ['n'] }],
        initializers: [{ name: 'axes', type: 'int64', dims: [1], values: [-1] }],
        nodes: [{ opType: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['y'], attributes: { keepdims: { int: 0 } } }],
      },
    });

  it('writes ir_version first and is deterministic', () => {
    const bytes = model();
    expect(bytes[0]).toBe(0x08);
    expect(looksLikeModel(bytes.subarray(0, 16), null)).toEqual({ ok: true });
    expect(hex(model())).toBe(hex(bytes));
  });

  it('produces a model onnxruntime loads, with attributes, negative int64 initializers and metadata', async () => {
    const session = await ort.InferenceSession.create(model());
    expect(session.inputMetadata).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['n', 3] }]);
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) });
    expect(Array.from(y.data as Float32Array)).toEqual([6, 15]);
    expect(y.dims).toEqual([2]);
    await session.release();
  });

  it('refuses a tensor whose values do not fill its dims', () => {
    expect(() =>
      encodeModel({
        irVersion: 8,
        opsets: [],
        producerName: 't',
        producerVersion: '0',
        graph: { name: 'g', inputs: [], outputs: [], nodes: [], initializers: [{ name: 'w', type: 'float32', dims: [2, 2], values: [1] }] },
      }),
    ).toThrow('tensor w: dims [2,2] need 4 values, got 1');
  });
});
