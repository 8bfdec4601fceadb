/**
 * `record[key]` when `key` is the record's own property, else undefined: an id that indexes an object
 * (a config's models, a rule's labels, a budget's counts) must never find what every object inherits,
 * such as `toString`, `constructor` or `__proto__`.
 *
 * @example
 * const config = ownValue(retrainConfig.models, request.model); // undefined for "toString"
 */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
