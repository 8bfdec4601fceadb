import { describe, expect, test } from 'vitest';
import { isFixedDim, normalizeDim } from '../../src/core/normalizeDim';

describe('normalizeDim', () => {
  test.each([
    [0, 0],
    [1, 1],
    [128, 128],
    [0x7fff_ffff, 0x7fff_ffff],
    ['batch', 'batch'],
    ['?', '?'],
  ])('keeps %j as %j', (dim, reported) => {
    expect(normalizeDim(dim)).toBe(reported);
  });

  test.each([
    ['-1 from onnxruntime', -1],
    ['2³²−1: -1 read back unsigned by onnxruntime-web (wasm32)', 4294967295],
    ['2⁶⁴−1 as a Number (wasm64)', 18446744073709552000],
    ['an unnamed symbolic dim', ''],
    ["'-1', as older versions reported it", '-1'],
    ['NaN', Number.NaN],
    ['a fraction', 1.5],
  ])('reports %s as "?"', (_what, dim) => {
    expect(normalizeDim(dim)).toBe('?');
    expect(isFixedDim(dim)).toBe(false);
  });
});
