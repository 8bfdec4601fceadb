import type { TensorSpec } from '../core/schema/TensorSpec';

/**
 * Why a new version cannot replace `current` for existing callers (empty: compatible). Every current
 * input and output must still exist with the same element type and rank, fixed dims may only become
 * symbolic or stay equal, and the new version may not require an input callers do not send.
 */
export function signatureIncompatibilities(
  current: { inputs: TensorSpec[]; outputs: TensorSpec[] },
  next: { inputs: TensorSpec[]; outputs: TensorSpec[] },
): string[] {
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', before: TensorSpec[], after: TensorSpec[]) => {
    const byName = new Map(after.map((s) => [s.name, s]));
    for (const old of before) {
      const now = byName.get(old.name);
      if (!now) {
        problems.push(`${kind} "${old.name}" is gone`);
        continue;
      }
      if (now.type !== old.type) problems.push(`${kind} "${old.name}" changed type ${old.type} → ${now.type}`);
      else if (now.shape.length !== old.shape.length)
        problems.push(`${kind} "${old.name}" changed rank ${old.shape.length} → ${now.shape.length}`);
      else
        old.shape.forEach((d, i) => {
          const e = now.shape[i];
          if (typeof d === 'number' && typeof e === 'number' && d !== e)
            problems.push(`${kind} "${old.name}" dim ${i} changed ${d} → ${e}`);
          if (typeof d === 'string' && typeof e === 'number' && kind === 'input')
            problems.push(`${kind} "${old.name}" dim ${i} changed from symbolic "${d}" to fixed ${e}`);
        });
    }
    if (kind === 'input') {
      const known = new Set(before.map((s) => s.name));
      for (const s of after) if (!known.has(s.name)) problems.push(`new required input "${s.name}"`);
    }
  };
  compare('input', current.inputs, next.inputs);
  compare('output', current.outputs, next.outputs);
  return problems;
}
