import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/http/isLoopbackHost';
import { median, percentile } from '../../src/collector/percentile';
import { populationStabilityIndex, PSI_EPSILON } from '../../src/collector/populationStabilityIndex';
import { PrometheusRegistry } from '../../src/collector/PrometheusRegistry';
import { TokenBucketLimiter } from '../../src/http/TokenBucketLimiter';

describe('percentile', () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100

  it('interpolates between closest ranks (R-7, like numpy)', () => {
    expect(percentile(sorted, 0.5)).toBeCloseTo(50.5, 10);
    expect(percentile(sorted, 0.95)).toBeCloseTo(95.05, 10);
    expect(percentile(sorted, 0.99)).toBeCloseTo(99.01, 10);
    expect(percentile(Float64Array.of(1, 2, 3, 4), 0.5)).toBe(2.5);
  });

  it('handles the edges', () => {
    expect(percentile(sorted, 0)).toBe(1);
    expect(percentile(sorted, 1)).toBe(100);
    expect(percentile(Float64Array.of(7), 0.99)).toBe(7);
    expect(percentile(new Float64Array(0), 0.5)).toBeNaN();
  });
});

describe('median', () => {
  it('sorts a copy and averages the middle pair of an even sample', () => {
    const sample = [9, 1, 5, 3];
    expect(median(sample)).toBe(4);
    expect(sample).toEqual([9, 1, 5, 3]);
    expect(median([7, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });
});

describe('populationStabilityIndex', () => {
  const counts = (o: Record<string, number>) => new Map(Object.entries(o));

  it('is 0 for identical distributions, whatever the sample sizes', () => {
    expect(populationStabilityIndex(counts({ a: 10, b: 30 }), counts({ a: 100, b: 300 }))).toBeCloseTo(0, 12);
  });

  it('matches the textbook formula', () => {
    // expected 50/50, actual 80/20: (0.8-0.5)ln(1.6) + (0.2-0.5)ln(0.4)
    const want = 0.3 * Math.log(0.8 / 0.5) + -0.3 * Math.log(0.2 / 0.5);
    expect(populationStabilityIndex(counts({ a: 50, b: 50 }), counts({ a: 80, b: 20 }))).toBeCloseTo(want, 12);
    expect(want).toBeGreaterThan(0.2);
  });

  it('stays finite when a class appears or disappears, floored at PSI_EPSILON', () => {
    const psi = populationStabilityIndex(counts({ a: 100 }), counts({ a: 50, b: 50 }));
    const want = (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON);
    expect(psi).toBeCloseTo(want, 12);
  });

  it('is symmetric-ish small for a small shift and NaN without data', () => {
    expect(populationStabilityIndex(counts({ a: 50, b: 50 }), counts({ a: 52, b: 48 }))).toBeLessThan(0.01);
    expect(populationStabilityIndex(counts({}), counts({ a: 1 }))).toBeNaN();
  });
});

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the sustained rate', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('ip', t0).ok)).toEqual([true, true, true]);
    const limited = limiter.take('ip', t0);
    expect(limited).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('other-ip', t0).ok).toBe(true);
    expect(limiter.take('ip', t0 + 500).ok).toBe(true);
    expect(limiter.take('ip', t0 + 500).ok).toBe(false);
  });

  it('forgets the least recently seen clients past maxClients', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 1, burst: 1, maxClients: 2 });
    limiter.take('a', 0);
    limiter.take('b', 0);
    limiter.take('c', 0); // evicts a
    expect(limiter.take('a', 0).ok).toBe(true);
    expect(limiter.take('c', 0).ok).toBe(false);
  });

  it('is off with perSecond 0', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 0, burst: 0 });
    expect(limiter.take('ip', 0).ok).toBe(true);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.0.2.2', false],
    ['example.com', false],
  ])('%s → %s', (host, want) => expect(isLoopbackHost(host)).toBe(want));
});

describe('PrometheusRegistry', () => {
  it('renders counters, escaped labels and cumulative histograms', () => {
    const r = new PrometheusRegistry();
    r.counter('c_total', 'A counter.').inc({ code: 'a"b\\c\nd' }, 2);
    const h = r.histogram('h_seconds', 'A histogram.', [0.1, 1]);
    h.observe({ b: 'wasm' }, 0.05);
    h.observe({ b: 'wasm' }, 0.5);
    h.observe({ b: 'wasm' }, 5);
    const text = r.render();
    expect(text).toContain('c_total{code="a\\"b\\\\c\\nd"} 2');
    expect(text).toContain('h_seconds_bucket{b="wasm",le="0.1"} 1');
    expect(text).toContain('h_seconds_bucket{b="wasm",le="1"} 2');
    expect(text).toContain('h_seconds_bucket{b="wasm",le="+Inf"} 3');
    expect(text).toContain('h_seconds_count{b="wasm"} 3');
    expect(text).toContain('# TYPE h_seconds histogram');
  });
});
