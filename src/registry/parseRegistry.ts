import { OnDeviceError } from '../core/OnDeviceError';
import { ELEMENT_TYPES, isElementType } from './elementTypes';
import type { ModelEntry, ModelSourceRef, SampleHint, TensorSpec } from './ModelEntry';

const ENTRY_KEYS = [
  'id',
  'version',
  'file',
  'sha256',
  'bytes',
  'license',
  'source',
  'task',
  'description',
  'inputs',
  'outputs',
  'sample',
  'assets',
];
const ASSET_KEYS = ['name', 'file', 'sha256', 'bytes', 'license', 'source', 'description'];
const ID = /^[a-z0-9][a-z0-9._-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;
// Files land side by side in public/models/: a plain name, no folders, no leading dot.
const FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

type Json = Record<string, unknown>;

/**
 * Validate models/registry.json (as text or parsed JSON) and return its entries. Throws one
 * `OnDeviceError('INVALID_INPUT')` listing every problem (`details.problems`), each prefixed by where it is.
 *
 * @example
 * const registry = parseRegistry(await (await fetch('/models/registry.json')).json())
 */
export function parseRegistry(json: unknown): ModelEntry[] {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new OnDeviceError('INVALID_INPUT', `model registry: not JSON (${(error as Error).message})`, {}, { cause: error });
    }
  }
  const problems: string[] = [];
  if (!Array.isArray(value)) {
    problems.push('model registry: expected an array of model entries');
  } else {
    value.forEach((entry, i) => checkEntry(entry, `registry[${i}]`, problems));
    if (problems.length === 0) checkUnique(value as ModelEntry[], problems);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new OnDeviceError('INVALID_INPUT', `invalid model registry: ${shown}${more}`, { problems });
  }
  return value as ModelEntry[];
}

function checkEntry(entry: unknown, at: string, problems: string[]): void {
  if (!isObject(entry)) return void problems.push(`${at}: expected an object`);
  if (typeof entry.id === 'string') at = `${at} (${entry.id})`;
  unknownKeys(entry, ENTRY_KEYS, at, problems);
  if (typeof entry.id !== 'string' || !ID.test(entry.id)) problems.push(`${at}.id: expected a lower-case id like "ppocr-v4-det"`);
  nonEmptyString(entry, 'version', at, problems);
  checkFile(entry, at, problems);
  nonEmptyString(entry, 'license', at, problems);
  checkSource(entry.source, `${at}.source`, problems);
  nonEmptyString(entry, 'task', at, problems);
  if (typeof entry.description !== 'string') problems.push(`${at}.description: expected a string`);
  const inputs = checkSpecs(entry.inputs, `${at}.inputs`, problems);
  checkSpecs(entry.outputs, `${at}.outputs`, problems);
  if (entry.sample !== undefined) checkSample(entry.sample, inputs, `${at}.sample`, problems);
  if (entry.assets !== undefined) {
    if (!Array.isArray(entry.assets)) problems.push(`${at}.assets: expected an array`);
    else {
      entry.assets.forEach((asset, i) => checkAsset(asset, `${at}.assets[${i}]`, problems));
      const names = entry.assets.map((asset) => (isObject(asset) ? asset.name : undefined));
      duplicates(names).forEach((name) => problems.push(`${at}.assets: duplicate asset name "${String(name)}"`));
    }
  }
}

function checkAsset(asset: unknown, at: string, problems: string[]): void {
  if (!isObject(asset)) return void problems.push(`${at}: expected an object`);
  unknownKeys(asset, ASSET_KEYS, at, problems);
  nonEmptyString(asset, 'name', at, problems);
  checkFile(asset, at, problems);
  nonEmptyString(asset, 'license', at, problems);
  checkSource(asset.source, `${at}.source`, problems);
  if (typeof asset.description !== 'string') problems.push(`${at}.description: expected a string`);
}

function checkFile(value: Json, at: string, problems: string[]): void {
  if (typeof value.file !== 'string' || !FILE.test(value.file)) {
    problems.push(`${at}.file: expected a plain file name (letters, digits, . _ -; no folders), got ${JSON.stringify(value.file)}`);
  }
  if (typeof value.sha256 !== 'string' || !SHA256.test(value.sha256)) {
    problems.push(`${at}.sha256: expected 64 lower-case hex digits, got ${JSON.stringify(value.sha256)}`);
  }
  if (!Number.isSafeInteger(value.bytes) || (value.bytes as number) <= 0) {
    problems.push(`${at}.bytes: expected a positive integer, got ${JSON.stringify(value.bytes)}`);
  }
}

function checkSource(source: unknown, at: string, problems: string[]): void {
  const ok = (s: ModelSourceRef): boolean => {
    if ('package' in s) return isText(s.package) && isText(s.path) && isText(s.license) && Object.keys(s).length === 3;
    if ('generator' in s) return isText(s.generator) && s.generator.startsWith('scripts/onnx/') && Object.keys(s).length === 1;
    if ('repoPath' in s)
      return isText(s.repoPath) && !s.repoPath.startsWith('/') && !s.repoPath.split('/').includes('..') && Object.keys(s).length === 1;
    return false;
  };
  if (!isObject(source) || !ok(source as ModelSourceRef)) {
    problems.push(
      `${at}: expected {package, path, license}, {generator: "scripts/onnx/…"} or {repoPath} (repo-relative), got ${JSON.stringify(source)}`,
    );
  }
}

function checkSpecs(specs: unknown, at: string, problems: string[]): TensorSpec[] {
  if (!Array.isArray(specs) || specs.length === 0) {
    problems.push(`${at}: expected a non-empty array of {name, type, shape}`);
    return [];
  }
  specs.forEach((spec, i) => {
    const where = `${at}[${i}]`;
    if (!isObject(spec)) return void problems.push(`${where}: expected {name, type, shape}`);
    unknownKeys(spec, ['name', 'type', 'shape'], where, problems);
    if (!isText(spec.name)) problems.push(`${where}.name: expected a non-empty string`);
    if (!isElementType(spec.type)) {
      problems.push(`${where}.type: ${JSON.stringify(spec.type)} is not an onnxruntime element type (${ELEMENT_TYPES.join(', ')})`);
    }
    // Symbolic dims are strings; onnxruntime reports an unnamed one as ''.
    const dimOk = (d: unknown) => typeof d === 'string' || (Number.isSafeInteger(d) && (d as number) >= 0);
    if (!Array.isArray(spec.shape) || !spec.shape.every(dimOk)) {
      problems.push(`${where}.shape: expected an array of fixed dims (integers >= 0) and symbolic dims (strings)`);
    }
  });
  duplicates(specs.map((s) => (isObject(s) ? s.name : undefined))).forEach((name) =>
    problems.push(`${at}: duplicate name "${String(name)}"`),
  );
  return specs as TensorSpec[];
}

function checkSample(sample: unknown, inputs: TensorSpec[], at: string, problems: string[]): void {
  if (!isObject(sample)) return void problems.push(`${at}: expected {dims?, fill?, range?}`);
  unknownKeys(sample, ['dims', 'fill', 'range'], at, problems);
  const byName = new Map(inputs.map((spec) => [spec.name, spec]));
  const section = (key: keyof SampleHint, check: (value: unknown, spec: TensorSpec, where: string) => void) => {
    const value = sample[key];
    if (value === undefined) return;
    if (!isObject(value)) return void problems.push(`${at}.${key}: expected an object keyed by input name`);
    for (const [name, item] of Object.entries(value)) {
      const spec = byName.get(name);
      if (!spec) problems.push(`${at}.${key}.${name}: no input is named "${name}"`);
      else check(item, spec, `${at}.${key}.${name}`);
    }
  };
  section('dims', (dims, spec, where) => {
    const fits =
      Array.isArray(dims) &&
      Array.isArray(spec.shape) &&
      dims.length === spec.shape.length &&
      dims.every((d, i) => Number.isSafeInteger(d) && d >= 0 && (typeof spec.shape[i] !== 'number' || spec.shape[i] === d));
    if (!fits) problems.push(`${where}: ${JSON.stringify(dims)} does not fit shape ${JSON.stringify(spec.shape)}`);
  });
  section('fill', (fill, _spec, where) => {
    if (typeof fill !== 'number' || !Number.isFinite(fill)) problems.push(`${where}: expected a finite number`);
  });
  section('range', (range, _spec, where) => {
    const ok = Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1];
    if (!ok) problems.push(`${where}: expected [min, max] with min < max`);
  });
}

function checkUnique(entries: ModelEntry[], problems: string[]): void {
  duplicates(entries.map((e) => `${e.id}@${e.version}`)).forEach((key) => problems.push(`registry: duplicate id@version ${key}`));
  // Every file shares public/models/; one name may only be reused for identical bytes.
  const files = new Map<string, string>();
  for (const item of entries.flatMap((e) => [e, ...(e.assets ?? [])])) {
    const seen = files.get(item.file);
    if (seen !== undefined && seen !== item.sha256) problems.push(`registry: file "${item.file}" is listed twice with different sha256`);
    files.set(item.file, item.sha256);
  }
}

function unknownKeys(value: Json, allowed: string[], at: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${at}: unknown field "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

function nonEmptyString(value: Json, key: string, at: string, problems: string[]): void {
  if (!isText(value[key])) problems.push(`${at}.${key}: expected a non-empty string`);
}

function duplicates<T>(values: T[]): T[] {
  return [...new Set(values.filter((v, i) => v !== undefined && values.indexOf(v) !== i))];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}
