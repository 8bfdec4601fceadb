import * as v from 'valibot';

/**
 * An object of `value`s keyed by id (`{ [modelId]: config }`), for ids that may be any name. `v.record`
 * silently drops the keys `constructor` and `prototype` (and `__proto__`), which are valid model ids: a
 * model with such an id would vanish from a config or a manifest. Here every own key is kept, as an own
 * property of a new object, `key` checks each key, and each value is checked with its path (`models.x.gate`).
 *
 * @example
 * const Config = v.object({ models: ownRecord(v.pipe(v.string(), v.regex(ID)), ModelConfigSchema) });
 */
export function ownRecord<const TKey extends v.GenericSchema<string, string>, const TValue extends v.GenericSchema>(
  key: TKey,
  value: TValue,
  message = 'expected an object',
) {
  return v.pipe(
    v.custom<Record<string, unknown>>((input) => typeof input === 'object' && input !== null && !Array.isArray(input), message),
    v.rawTransform<Record<string, unknown>, Record<string, v.InferOutput<TValue>>>(({ dataset, addIssue, NEVER }) => {
      const out: [string, v.InferOutput<TValue>][] = [];
      for (const [id, raw] of Object.entries(dataset.value)) {
        const at: v.IssuePathItem = { type: 'object', origin: 'value', input: dataset.value, key: id, value: raw };
        const checkedKey = v.safeParse(key, id);
        if (!checkedKey.success) {
          addIssue({ message: checkedKey.issues[0].message, path: [{ ...at, origin: 'key' }] });
          return NEVER;
        }
        const checked = v.safeParse(value, raw);
        if (!checked.success) {
          const [issue] = checked.issues;
          addIssue({ message: issue.message, path: [at, ...(issue.path ?? [])] });
          return NEVER;
        }
        out.push([id, checked.output]);
      }
      // fromEntries defines own data properties: a key named `__proto__` stays a key.
      return Object.fromEntries(out);
    }),
  );
}
