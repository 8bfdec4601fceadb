import * as v from 'valibot';

/** Identifier-like strings (ids, site keys) are restricted so they are safe as metric labels. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
const MODEL_PATTERN = /^[A-Za-z0-9_.:@/+-]+$/;
// Lone surrogates (legal in JSON escapes, illegal in UTF-8) would break every consumer downstream;
// NUL breaks C consumers of the database.
// eslint-disable-next-line no-control-regex -- NUL is exactly what this rejects
const ILL_FORMED = /\p{Cs}|\u0000/u;

/** A string of at most `maxLength` UTF-16 units without lone surrogates or NUL. */
export const wellFormedText = (maxLength: number) =>
  v.pipe(
    v.string('must be a string'),
    v.maxLength(maxLength, `at most ${maxLength} characters`),
    v.check((s) => !ILL_FORMED.test(s), 'must be well-formed text'),
  );

/** Ids, install ids, site keys: A-Z a-z 0-9 _ . : - only. */
export const identifier = (maxLength: number, minLength = 1) =>
  v.pipe(
    wellFormedText(maxLength),
    v.minLength(minLength, `at least ${minLength} characters`),
    v.regex(ID_PATTERN, 'may only contain A-Z a-z 0-9 _ . : -'),
  );

/** Model ids and versions: also @ / + (scoped package names, semver build metadata). */
export const modelString = (maxLength: number) =>
  v.pipe(wellFormedText(maxLength), v.regex(MODEL_PATTERN, 'may only contain A-Z a-z 0-9 _ . : @ / + -'));

export const finiteNumber = (min: number, max: number) =>
  v.pipe(
    v.number('must be a finite number'),
    v.finite('must be a finite number'),
    v.minValue(min, `must be within [${min}, ${max}]`),
    v.maxValue(max, `must be within [${min}, ${max}]`),
  );

export const integerIn = (min: number, max: number) => v.pipe(finiteNumber(min, max), v.integer('must be an integer'));
