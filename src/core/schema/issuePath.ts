import type * as v from 'valibot';

/** `$.events[3].inputDims.x[0]` from a valibot issue; keys are clipped so a hostile key cannot bloat a response. */
export function issuePath(issue: v.BaseIssue<unknown>, root = '$'): string {
  let out = root;
  for (const item of issue.path ?? []) {
    const key = item.key;
    out += typeof key === 'number' ? `[${key}]` : `.${String(key).slice(0, 64)}`;
  }
  return out;
}
