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
  // Paths are rebuilt from parent links only when something is found: the walk runs on every event.
  interface Node {
    value: unknown;
    depth: number;
    parent: Node | null;
    key: string | number;
  }
  const pathOf = (node: Node) => {
    const path: (string | number)[] = [];
    for (let n: Node | null = node; n?.parent; n = n.parent) path.unshift(n.key);
    return path;
  };
  const stack: Node[] = [{ value, depth: 0, parent: null, key: '' }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const current = node.value;
    if (typeof current !== 'object' || current === null || node.depth > stopBelow) continue;
    if (node.depth > maxDepth) return { message: 'nested too deeply', path: pathOf(node) };
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        const item: unknown = current[i];
        if (typeof item === 'object' && item !== null) stack.push({ value: item, depth: node.depth + 1, parent: node, key: i });
      }
      continue;
    }
    const proto = Object.getPrototypeOf(current);
    if (proto !== Object.prototype && proto !== null) return { message: 'must be a plain object', path: pathOf(node) };
    for (const key of Object.keys(current)) {
      const child: Node = { value: (current as Record<string, unknown>)[key], depth: node.depth + 1, parent: node, key };
      if (FORBIDDEN_KEYS.has(key)) return { message: `forbidden key "${key}"`, path: pathOf(child) };
      if (typeof child.value === 'object' && child.value !== null) stack.push(child);
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
