import * as v from 'valibot';
import { describe, expect, test } from 'vitest';
import { ownValue } from '../../src/core/ownValue';
import { ownRecord } from '../../src/core/schema/ownRecord';
import { issuePath } from '../../src/core/schema/issuePath';

const INHERITED = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable'];

describe('ownValue', () => {
  test('finds own entries only: never what every object inherits', () => {
    const models: Record<string, { cooldownMs: number }> = { digits: { cooldownMs: 1 } };
    expect(ownValue(models, 'digits')).toEqual({ cooldownMs: 1 });
    for (const name of INHERITED) expect(ownValue(models, name), name).toBeUndefined();
    expect(ownValue(undefined, 'digits')).toBeUndefined();
  });

  test('an entry really called `constructor` (or `__proto__`, as JSON.parse makes it) is found', () => {
    const parsed = JSON.parse('{"constructor": 1, "__proto__": 2, "toString": 3}') as Record<string, number>;
    expect(ownValue(parsed, 'constructor')).toBe(1);
    expect(ownValue(parsed, '__proto__')).toBe(2);
    expect(ownValue(parsed, 'toString')).toBe(3);
    // Even on an object without a prototype.
    expect(ownValue(Object.assign(Object.create(null) as Record<string, number>, { a: 1 }), 'a')).toBe(1);
  });
});

describe('ownRecord', () => {
  const schema = v.object({
    models: ownRecord(v.pipe(v.string(), v.regex(/^[a-z_]+$/, 'bad id')), v.object({ n: v.number('n must be a number') })),
  });

  test('keeps every own key, `constructor` and `prototype` included (v.record drops them)', () => {
    const input = JSON.parse('{"models": {"constructor": {"n": 1}, "prototype": {"n": 2}, "__proto__": {"n": 3}, "a": {"n": 4}}}');
    const { models } = v.parse(schema, input);
    expect(Object.keys(models).sort()).toEqual(['__proto__', 'a', 'constructor', 'prototype']);
    expect(ownValue(models, 'constructor')).toEqual({ n: 1 });
    expect(ownValue(models, '__proto__')).toEqual({ n: 3 });
    expect(Object.getPrototypeOf(models)).toBe(Object.prototype);
    expect(ownValue(models, 'toString')).toBeUndefined();
    // What v.record does with the same input, and why it is not used for ids.
    expect(Object.keys(v.parse(v.record(v.string(), v.unknown()), input.models)).sort()).toEqual(['a']);
  });

  test('says which key and which field is wrong', () => {
    const bad = v.safeParse(schema, { models: { a: { n: 'x' } } });
    expect(!bad.success && `${issuePath(bad.issues[0])} ${bad.issues[0].message}`).toBe('$.models.a.n n must be a number');
    const badKey = v.safeParse(schema, { models: { 'A-1': { n: 1 } } });
    expect(!badKey.success && `${issuePath(badKey.issues[0])} ${badKey.issues[0].message}`).toBe('$.models.A-1 bad id');
    expect(v.safeParse(schema, { models: [] }).success).toBe(false);
  });
});
