// Helpers that make valibot's messages say what a person needs to read: one message for a whole value,
// and strict objects that list the fields they allow.
import * as v from 'valibot';

export const got = (issue: v.BaseIssue<unknown>) => JSON.stringify(issue.input);

/**
 * `schema`, reported as one problem for the whole value (with `message`) instead of one per part:
 * "expected {package, path, license}, …" says more than the first failing key of a union option.
 */
export const whole = <const TSchema extends v.GenericSchema>(schema: TSchema, message: v.ErrorMessage<v.CheckIssue<unknown>>) =>
  v.pipe(
    v.unknown(),
    v.check((input) => v.is(schema, input), message),
    schema,
  );

/** The message of a strict object: not an object, a missing key, or an unknown one (listing the allowed). */
const objectMessage =
  (expected: string, allowed: string[]): v.ErrorMessage<v.StrictObjectIssue> =>
  (issue) => {
    if (issue.expected === 'never') return `unknown field ${issue.received} (allowed: ${allowed.join(', ')})`;
    if (issue.received === 'undefined' && issue.path?.length) return `is required`;
    return `expected ${expected}`;
  };

export const strict = <const TEntries extends v.ObjectEntries>(entries: TEntries, expected: string) =>
  v.strictObject(entries, objectMessage(expected, Object.keys(entries)));

export const nonEmptyString = v.pipe(v.string('expected a non-empty string'), v.minLength(1, 'expected a non-empty string'));
