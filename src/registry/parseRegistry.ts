import * as v from 'valibot';
import { OnDeviceError } from '../core/OnDeviceError';
import { ModelEntrySchema, type ModelEntry } from './ModelEntry';

/** The whole registry: entries, unique by id@version, one file name per content. */
export const RegistrySchema = v.pipe(
  v.array(ModelEntrySchema, 'model registry: expected an array of model entries'),
  v.rawCheck<ModelEntry[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const entries = dataset.value;
    const keys = entries.map((e) => `${e.id}@${e.version}`);
    for (const key of new Set(keys.filter((k, i) => keys.indexOf(k) !== i))) addIssue({ message: `registry: duplicate id@version ${key}` });
    // Every file shares public/models/; one name may only be reused for identical bytes.
    const files = new Map<string, string>();
    for (const item of entries.flatMap((e) => [e, ...(e.optimized ? [e.optimized] : []), ...(e.assets ?? []), ...(e.externalData ?? [])])) {
      const seen = files.get(item.file);
      if (seen !== undefined && seen !== item.sha256)
        addIssue({ message: `registry: file "${item.file}" is listed twice with different sha256` });
      files.set(item.file, item.sha256);
    }
  }),
);

export interface ParseRegistryOptions {
  /**
   * The repository's registry (default): every file a plain name, because models:sync puts them side by
   * side in public/models/. A registry a host serves may name files in folders below it (`false`).
   */
  plainFileNames?: boolean;
}

/**
 * Validate models/registry.json (as text or parsed JSON) and return its entries. Throws one
 * `OnDeviceError('INVALID_INPUT')` listing every problem (`details.problems`), each prefixed by where it is.
 *
 * @example
 * const registry = parseRegistry(await (await fetch('/models/registry.json')).json())
 */
export function parseRegistry(json: unknown, options: ParseRegistryOptions = {}): ModelEntry[] {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new OnDeviceError('INVALID_INPUT', `model registry: not JSON (${(error as Error).message})`, {}, { cause: error });
    }
  }
  const result = v.safeParse(RegistrySchema, value);
  const problems = result.success ? [] : result.issues.map((issue) => describe(issue, value));
  if (result.success && options.plainFileNames !== false) {
    result.output.forEach((entry, i) =>
      [
        { item: entry, at: '' },
        ...(entry.optimized ? [{ item: entry.optimized, at: '.optimized' }] : []),
        ...(entry.assets ?? []).map((item, k) => ({ item, at: `.assets[${k}]` })),
        ...(entry.externalData ?? []).map((item, k) => ({ item, at: `.externalData[${k}]` })),
      ].forEach(({ item, at }) => {
        if (item.file.includes('/'))
          problems.push(
            `registry[${i}] (${entry.id})${at}.file: expected a plain file name (models:sync puts files side by side), got "${item.file}"`,
          );
      }),
    );
  }
  if (result.success && problems.length === 0) return result.output;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  throw new OnDeviceError('INVALID_INPUT', `invalid model registry: ${shown}${more}`, { problems });
}

/** `registry[0] (ppocr-v4-det).inputs[1].type: …`; an issue without a path carries its own prefix. */
function describe(issue: v.BaseIssue<unknown>, registry: unknown): string {
  const path = [...(issue.path ?? [])];
  // An unknown key is reported at its object, the message names it.
  if (issue.expected === 'never' && path.at(-1)?.origin === 'key') path.pop();
  if (path.length === 0) return issue.message;
  const [first, ...rest] = path;
  const id = (registry as { id?: unknown }[])[first.key as number]?.id;
  let at = `registry[${String(first.key)}]${typeof id === 'string' ? ` (${id})` : ''}`;
  for (const item of rest) at += typeof item.key === 'number' ? `[${item.key}]` : `.${String(item.key)}`;
  return `${at}: ${issue.message}`;
}
