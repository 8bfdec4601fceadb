import { describe, expect, it } from 'vitest';
import { ModelKeyBudget, OTHER_MODEL } from '../../src/collector/ModelKeyBudget';
import { TokenBucketLimiter } from '../../src/http/TokenBucketLimiter';

const key = (b: ModelKeyBudget, site: string, id: string, version: string | null) => {
  const k = b.admit(site, id, version);
  return `${k.modelId}@${k.modelVersion}`;
};

describe('ModelKeyBudget', () => {
  it('keeps the budget per site key and folds the rest', () => {
    const b = new ModelKeyBudget({ maxModelsPerSite: 2, maxVersionsPerModel: 2 });
    expect(['a', 'b', 'c'].map((id) => key(b, 's1', id, '1'))).toEqual(['a@1', 'b@1', `${OTHER_MODEL}@${OTHER_MODEL}`]);
    expect(key(b, 's2', 'c', '1')).toBe('c@1'); // another site has its own budget
    expect(['2', '3', '1'].map((v) => key(b, 's1', 'a', v))).toEqual(['a@2', `a@${OTHER_MODEL}`, 'a@1']);
    expect(key(b, 's1', 'c', null)).toBe(`${OTHER_MODEL}@null`); // a session event keeps "no version"
  });

  it('always counts known models and versions, and bounds the unknown versions of a known model', () => {
    const b = new ModelKeyBudget({ maxModelsPerSite: 1, maxVersionsPerModel: 1, known: [{ modelId: 'reg', modelVersion: '7' }] });
    expect(key(b, 's', 'x', '1')).toBe('x@1');
    expect(key(b, 's', 'y', '1')).toBe(`${OTHER_MODEL}@${OTHER_MODEL}`);
    expect(key(b, 's', 'reg', '7')).toBe('reg@7');
    expect(key(b, 's', 'reg', '8')).toBe('reg@8');
    expect(key(b, 's', 'reg', '9')).toBe(`reg@${OTHER_MODEL}`);
    b.addKnown('release', '2'); // e.g. a newly published release
    expect(key(b, 's', 'release', '2')).toBe('release@2');
  });

  it('forgets admissions whose batch did not commit', () => {
    const b = new ModelKeyBudget({ maxModelsPerSite: 1 });
    const k = b.admit('s', 'a', '1');
    expect(k.added).toBe(true);
    b.forget('s', [k]);
    expect(key(b, 's', 'b', '1')).toBe('b@1');
  });
});

describe('TokenBucketLimiter.takeAll', () => {
  it('takes from every bucket or from none', () => {
    const l = new TokenBucketLimiter({ perSecond: 1, burst: 10 });
    expect(l.takeAll(new Map([['a', 8]]), 0)).toEqual({ ok: true });
    const refused = l.takeAll(
      new Map([
        ['a', 5],
        ['b', 5],
      ]),
      0,
    );
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 3 });
    expect(l.takeAll(new Map([['b', 10]]), 0)).toEqual({ ok: true }); // b was not charged by the refusal
  });
});
