import { describe, expect, it } from 'vitest';
import { cer, levenshtein } from '../../src/app/ocr/cer';

describe('cer', () => {
  it('counts insertions, deletions and substitutions per expected character', () => {
    expect(cer('Total 6.75', 'Total 6.75')).toBe(0);
    expect(cer('Total 6.75', 'Tota1 6.75')).toBeCloseTo(0.1);
    expect(cer('Total 6.75', 'Total6.75')).toBeCloseTo(0.1);
    expect(cer('abc', 'abcd')).toBeCloseTo(1 / 3);
    expect(cer('kitten', 'sitting')).toBeCloseTo(3 / 6);
  });

  it('works on code points, not UTF-16 units', () => {
    expect(levenshtein([...'价格 😀'], [...'价格 😃'])).toBe(1);
  });

  it('handles empty strings', () => {
    expect(cer('', '')).toBe(0);
    expect(cer('', 'x')).toBe(1);
    expect(cer('abc', '')).toBe(1);
  });
});
