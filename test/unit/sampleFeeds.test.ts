import { describe, expect, test } from 'vitest';
import { sampleFeeds } from '../../src/core/sampleFeeds';
import type { TensorSpec } from '../../src/core/schema/TensorSpec';

describe('sampleFeeds', () => {
  test('sizes buffers from fixed dims only: named, "?" and raw free dims (-1, 2³²−1) become 1', () => {
    const inputs: TensorSpec[] = [
      { name: 'input', type: 'float32', shape: ['?', 'samples'] },
      { name: 'state', type: 'float32', shape: [2, 4294967295, 128] },
      { name: 'ids', type: 'int64', shape: [-1, 3] },
      { name: 'sr', type: 'int64', shape: [] },
    ];
    const feeds = sampleFeeds(inputs);
    expect(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, [t.dims, t.data.length, t.data.constructor.name]]))).toEqual({
      input: [[1, 1], 1, 'Float32Array'],
      state: [[2, 1, 128], 256, 'Float32Array'],
      ids: [[1, 3], 3, 'BigInt64Array'],
      sr: [[], 1, 'BigInt64Array'],
    });
  });

  test('a hint overrides dims and fills constants', () => {
    const feeds = sampleFeeds(
      [
        { name: 'sr', type: 'int64', shape: [] },
        { name: 'x', type: 'float32', shape: ['?'] },
      ],
      {
        dims: { x: [5] },
        fill: { sr: 16000 },
      },
    );
    expect(feeds.sr.data).toEqual(BigInt64Array.of(16000n));
    expect(feeds.x.dims).toEqual([5]);
    expect(feeds.x.data).toHaveLength(5);
  });

  test('freeDim sizes the free dims past the batch dim (a model by URL warmed on a 32×32 image, not 1×1)', () => {
    const feeds = sampleFeeds([{ name: 'x', type: 'float32', shape: ['n', 3, 'h', 'w'] }], {}, 32);
    expect(feeds.x.dims).toEqual([1, 3, 32, 32]);
    expect(feeds.x.data).toHaveLength(3 * 32 * 32);
  });
});
