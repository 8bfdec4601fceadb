import { describe, expect, test } from 'vitest';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import { validateFeeds } from '../../src/core/validateFeeds';
import type { TensorSpec } from '../../src/core/schema/TensorSpec';

const inputs: TensorSpec[] = [
  { name: 'x', type: 'float32', shape: ['batch', 3, 'h', 'w'] },
  { name: 'sr', type: 'int64', shape: [] },
];

const good = () => ({
  x: { type: 'float32' as const, data: new Float32Array(2 * 3 * 4 * 5), dims: [2, 3, 4, 5] },
  sr: { type: 'int64' as const, data: BigInt64Array.of(16000n), dims: [] },
});

function codeOf(fn: () => void): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OnDeviceError);
    return { code: (e as OnDeviceError).code, message: (e as OnDeviceError).message };
  }
  throw new Error('expected an error');
}

describe('validateFeeds', () => {
  test('accepts matching feeds, including a scalar and symbolic dims', () => {
    expect(() => validateFeeds(good(), inputs, 'm')).not.toThrow();
  });

  test.each([
    ['unknown input', (f: ReturnType<typeof good>) => Object.assign(f, { y: f.sr }), /unknown input "y"/],
    ['missing input', (f: ReturnType<typeof good>) => delete (f as Partial<typeof f>).sr, /missing input "sr"/],
    ['wrong type', (f: ReturnType<typeof good>) => ((f.x as { type: string }).type = 'int32'), /must be float32, got int32/],
    [
      'wrong array',
      (f: ReturnType<typeof good>) => ((f.x as { data: unknown }).data = new Float64Array(120)),
      /needs data as Float32Array/,
    ],
    ['wrong rank', (f: ReturnType<typeof good>) => (f.x.dims = [2, 3, 20]), /rank 4/],
    ['wrong fixed dim', (f: ReturnType<typeof good>) => (f.x.dims = [2, 4, 3, 5]), /dim 1 must be 3/],
    [
      'wrong data length',
      (f: ReturnType<typeof good>) => (f.x.data = new Float32Array(7)),
      /has 7 elements but dims \[2, 3, 4, 5\] need 120/,
    ],
    ['bad dims', (f: ReturnType<typeof good>) => ((f.x as { dims: unknown }).dims = [2, -3, 4, 5]), /non-negative integers/],
    ['int64 as numbers', (f: ReturnType<typeof good>) => ((f.sr as { data: unknown }).data = Int32Array.of(16000)), /BigInt64Array/],
  ])('%s → INVALID_INPUT', (_name, mutate, pattern) => {
    const feeds = good();
    mutate(feeds);
    const { code, message } = codeOf(() => validateFeeds(feeds, inputs, 'm'));
    expect(code).toBe('INVALID_INPUT');
    expect(message).toMatch(pattern);
  });

  test('rejects non-object feeds', () => {
    expect(codeOf(() => validateFeeds(null, inputs, 'm')).code).toBe('INVALID_INPUT');
    expect(codeOf(() => validateFeeds([], inputs, 'm')).code).toBe('INVALID_INPUT');
  });

  describe('dims a model leaves free', () => {
    // As models loaded by URL report them ('?'), and as onnxruntime itself marks them (-1, or 2³²−1 when
    // onnxruntime-web reads -1 back unsigned): any size is accepted, rank still counts.
    const free: TensorSpec[] = [
      { name: 'unnamed', type: 'float32', shape: ['?', '?'] },
      { name: 'raw', type: 'float32', shape: [4294967295, -1, 2] },
    ];
    const feedsOf = (a: number[], b: number[]) => ({
      unnamed: { type: 'float32' as const, data: new Float32Array(a[0] * a[1]), dims: a },
      raw: { type: 'float32' as const, data: new Float32Array(b.reduce((x, y) => x * y, 1)), dims: b },
    });

    test.each([
      [
        [1, 576],
        [1, 1, 2],
      ],
      [
        [3, 1],
        [7, 5, 2],
      ],
      [
        [0, 4],
        [2, 0, 2],
      ],
    ])('accepts %j and %j', (a, b) => {
      expect(() => validateFeeds(feedsOf(a, b), free, 'm')).not.toThrow();
    });

    test('still checks rank and the fixed dims beside them', () => {
      expect(codeOf(() => validateFeeds(feedsOf([1, 576], [1, 1, 3]), free, 'm')).message).toMatch(/dim 2 must be 2, got 3/);
      const rank = { ...feedsOf([1, 576], [1, 1, 2]), unnamed: { type: 'float32' as const, data: new Float32Array(576), dims: [576] } };
      expect(codeOf(() => validateFeeds(rank, free, 'm')).message).toMatch(/must have rank 2 \[\?, \?\], got rank 1/);
    });
  });

  test('float16 accepts raw bits, bool accepts Uint8Array', () => {
    const specs: TensorSpec[] = [
      { name: 'h', type: 'float16', shape: [2] },
      { name: 'b', type: 'bool', shape: [1] },
    ];
    expect(() =>
      validateFeeds(
        { h: { type: 'float16', data: new Uint16Array(2), dims: [2] }, b: { type: 'bool', data: Uint8Array.of(1), dims: [1] } },
        specs,
        'm',
      ),
    ).not.toThrow();
  });
});
