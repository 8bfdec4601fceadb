import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import { parseRegistry } from '../../src/registry/parseRegistry';
import { REGISTRY_PATH } from './paths';

/** models/registry.json, validated; an absent file is an empty registry. */
export async function readRegistry(path = REGISTRY_PATH): Promise<ModelEntry[]> {
  if (!existsSync(path)) return [];
  return parseRegistry(await readFile(path, 'utf8'));
}

/** Validate, sort by id then version, order keys canonically and write formatted as the repo's prettier would. */
export async function writeRegistry(entries: ModelEntry[], path = REGISTRY_PATH): Promise<void> {
  const sorted = entries
    .map(canonical)
    .sort((a, b) => a.id.localeCompare(b.id) || a.version.localeCompare(b.version, 'en', { numeric: true }));
  parseRegistry(sorted);
  await writeFile(path, await format(`${toRegistryJson(sorted)}\n`, path));
}

function canonical(entry: ModelEntry): ModelEntry {
  const {
    id,
    version,
    file,
    sha256,
    bytes,
    externalData,
    totalBytes,
    license,
    source,
    task,
    description,
    inputs,
    outputs,
    sample,
    optimized,
    assets,
  } = entry;
  return {
    id,
    version,
    file,
    sha256,
    bytes,
    ...(externalData ? { externalData: externalData.map(({ location, file, sha256, bytes }) => ({ location, file, sha256, bytes })) } : {}),
    ...(totalBytes !== undefined ? { totalBytes } : {}),
    license,
    source,
    task,
    description,
    inputs: inputs.map(({ name, type, shape }) => ({ name, type, shape })),
    outputs: outputs.map(({ name, type, shape }) => ({ name, type, shape })),
    ...(sample ? { sample } : {}),
    ...(optimized
      ? {
          optimized: {
            file: optimized.file,
            sha256: optimized.sha256,
            bytes: optimized.bytes,
            level: optimized.level,
            onnxruntime: optimized.onnxruntime,
          },
        }
      : {}),
    ...(assets
      ? {
          assets: assets.map(({ name, file, sha256, bytes, license, source, description }) => ({
            name,
            file,
            sha256,
            bytes,
            license,
            source,
            description,
          })),
        }
      : {}),
  };
}

/** Registry JSON text (see stringify below), for writing the file and for printing entries. */
export function toRegistryJson(value: unknown): string {
  return stringify(value, '');
}

/**
 * JSON.stringify(value, null, 2), except that small objects of plain values (tensor specs, sources)
 * stay on one line; prettier keeps an object collapsed only if it was written collapsed.
 */
function stringify(value: unknown, indent: string): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) return `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    return `[\n${value.map((item) => inner + stringify(item, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  const flat = entries.every(([, v]) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((i) => typeof i !== 'object')));
  const parts = entries.map(([key, v]) => `${JSON.stringify(key)}: ${stringify(v, inner)}`);
  if (flat && parts.join(', ').length <= 100) return `{ ${parts.join(', ')} }`;
  return `{\n${parts.map((part) => inner + part).join(',\n')}\n${indent}}`;
}

// The repo formats JSON with prettier; matching it keeps `prettier --check` green after models:add.
async function format(text: string, path: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...options, filepath: path, parser: 'json' });
  } catch {
    return text;
  }
}
