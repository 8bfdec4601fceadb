import * as v from 'valibot';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface HostileJson {
  message: string;
  /** Keys from the checked value down to the problem. */
  path: (string | number)[];
}

/**
 * Find what no schema should ever see: a prototype-pollution key, a non-plain object, or nesting
 * deeper than `maxDepth`. Iterative, so hostile nesting cannot overflow the stack. `stopBelow` leaves
 * values deeper than it unexamined (a batch envelope checks its own keys; each event is checked alone).
 */
export function findHostileJson(value: unknown, maxDepth: number, stopBelow = Infinity): HostileJson | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value: node, path } = item;
    if (typeof node !== 'object' || node === null || path.length > stopBelow) continue;
    if (path.length > maxDepth) return { message: 'nested too deeply', path };
    if (Array.isArray(node)) {
      node.forEach((child, i) => stack.push({ value: child, path: [...path, i] }));
      continue;
    }
    const proto = Object.getPrototypeOf(node);
    if (proto !== Object.prototype && proto !== null) return { message: 'must be a plain object', path };
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) return { message: `forbidden key "${key}"`, path: [...path, key] };
      stack.push({ value: (node as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return null;
}

/**
 * A refinement that runs before a schema in a pipe: `v.pipe(v.unknown(), rejectHostileJson(4), Schema)`.
 * valibot's own record skips `__proto__` silently; this rejects it, with its path.
 */
export const rejectHostileJson = (maxDepth: number, stopBelow = Infinity) =>
  v.rawCheck<unknown>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const found = findHostileJson(dataset.value, maxDepth, stopBelow);
    if (!found) return;
    let input = dataset.value;
    const path = found.path.map((key) => {
      const parent = input as Record<string | number, unknown>;
      input = parent[key];
      return Array.isArray(parent)
        ? ({ type: 'array', origin: 'value', input: parent as unknown[], key: key as number, value: input } as const)
        : ({ type: 'object', origin: 'value', input: parent, key: String(key), value: input } as const);
    });
    addIssue({ message: found.message, ...(path.length > 0 ? { path: path as [v.IssuePathItem, ...v.IssuePathItem[]] } : {}) });
  });
