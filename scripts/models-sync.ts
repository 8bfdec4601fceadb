// npm run models:sync (run by build, start and test)
// Copies every registry model and asset to public/models/<file> and verifies sha256 and size of each,
// generating models/generated/* first where missing, and writes each model's pre-optimised copy (registry
// `optimized`) with onnxruntime-node, verified against its own sha256. Idempotent: files already in place are
// only hashed.
// On any mismatch it prints one line naming the file, expected and actual hash, and exits 1.
// --registry <file> and --out <dir> override models/registry.json and public/models (for tests).
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AssetEntry, DataFileEntry, ModelEntry, OptimizedEntry } from '../src/registry/ModelEntry';
import { GENERATED_MODELS } from './onnx/generatedModels';
import { onnxruntimeVersion, writeOptimizedModel } from '../src/node/optimizeModel';
import { PUBLIC_MODELS_DIR, REGISTRY_PATH, REPO_ROOT } from './onnx/paths';
import { readRegistry } from './onnx/registryFile';
import { sha256File } from './onnx/sha256File';
import { dataFileSourcePath, sourcePath } from './onnx/sourcePath';
import { writeGeneratedModel } from './onnx/writeGeneratedModel';

const { values: args } = parseArgs({ options: { registry: { type: 'string' }, out: { type: 'string' } } });
const registryPath = args.registry ? resolve(args.registry) : REGISTRY_PATH;
const outDir = args.out ? resolve(args.out) : PUBLIC_MODELS_DIR;

async function main(): Promise<void> {
  const started = performance.now();
  const registry = await readRegistry(registryPath).catch((error: unknown) => {
    throw new Error(`${display(registryPath)}: ${error instanceof Error ? error.message : String(error)}`);
  });
  await mkdir(outDir, { recursive: true });
  let copied = 0;
  let files = 0;
  for (const entry of registry) {
    for (const item of [entry, ...(entry.assets ?? [])]) {
      const label = item === entry ? `${entry.id}@${entry.version}` : `${entry.id}@${entry.version} asset ${(item as AssetEntry).name}`;
      if (await syncFile(item, entry, label)) copied++;
      files++;
    }
    for (const data of entry.externalData ?? []) {
      if (await syncFile(data, entry, `${entry.id}@${entry.version} data file "${data.location}"`)) copied++;
      files++;
    }
    if (entry.optimized) {
      if (await syncOptimized(entry, entry.optimized, `${entry.id}@${entry.version} optimized`)) copied++;
      files++;
    }
  }
  // The page reads the registry from the same folder as the models.
  await copyAtomically(registryPath, join(outDir, 'registry.json'));
  const ms = Math.round(performance.now() - started);
  console.log(`models:sync: ${files} files in ${display(outDir)} (${copied} copied, ${files - copied} up to date) in ${ms} ms`);
}

/** Returns true when the file had to be copied. */
async function syncFile(item: ModelEntry | AssetEntry | DataFileEntry, entry: ModelEntry, label: string): Promise<boolean> {
  if (item.file === 'registry.json') throw new Error(`${label}: the file name registry.json is reserved for the registry itself`);
  const from = 'location' in item ? dataFileSourcePath(entry, item.location) : sourcePath(item);
  const source = 'location' in item ? entry.source : item.source;
  if (!existsSync(from) && 'generator' in source) {
    const model = GENERATED_MODELS.find((m) => m.entry.id === entry.id && m.entry.file === item.file);
    if (!model) throw new Error(`${label}: no generator in scripts/onnx/generatedModels.ts writes ${item.file}`);
    await writeGeneratedModel(model);
  }
  if (!existsSync(from)) {
    const hint = 'package' in source ? ` (is ${source.package} installed? run npm install)` : '';
    throw new Error(`${label}: source file ${display(from)} is missing${hint}`);
  }
  const actual = await sha256File(from);
  if (actual.sha256 !== item.sha256 || actual.bytes !== item.bytes) {
    const fix = 'generator' in source ? '; run npm run models:generate' : '';
    throw new Error(
      `${label}: ${display(from)} does not match the registry: expected sha256 ${item.sha256} (${item.bytes} bytes), actual ${actual.sha256} (${actual.bytes} bytes)${fix}`,
    );
  }
  const to = join(outDir, item.file);
  if (existsSync(to)) {
    const present = await sha256File(to);
    if (present.sha256 === item.sha256 && present.bytes === item.bytes) return false;
  }
  await copyAtomically(from, to);
  return true;
}

/**
 * Derive the model's pre-optimised copy from the verified original; returns true when it had to be written.
 * The copy depends on onnxruntime's version, so a different onnxruntime-node is told to re-derive the registry's.
 */
async function syncOptimized(entry: ModelEntry, optimized: OptimizedEntry, label: string): Promise<boolean> {
  const to = join(outDir, optimized.file);
  if (existsSync(to)) {
    const present = await sha256File(to);
    if (present.sha256 === optimized.sha256 && present.bytes === optimized.bytes) return false;
  }
  const version = await onnxruntimeVersion();
  if (version !== optimized.onnxruntime) {
    throw new Error(
      `${label}: written by onnxruntime ${optimized.onnxruntime}, but onnxruntime-node ${version} is installed; run npm run models:optimize`,
    );
  }
  const temp = `${to}.${process.pid}.tmp`;
  try {
    await writeOptimizedModel(join(outDir, entry.file), temp, optimized.level);
    const actual = await sha256File(temp);
    if (actual.sha256 !== optimized.sha256 || actual.bytes !== optimized.bytes) {
      throw new Error(
        `${label}: onnxruntime-node ${version} wrote sha256 ${actual.sha256} (${actual.bytes} bytes), the registry expects ${optimized.sha256} (${optimized.bytes} bytes); run npm run models:optimize`,
      );
    }
    await rename(temp, to);
  } finally {
    await rm(temp, { force: true });
  }
  return true;
}

function display(path: string): string {
  const inRepo = relative(REPO_ROOT, path);
  return inRepo.startsWith('..') ? path : inRepo || '.';
}

// A dev server may be serving public/models while we copy: never expose a half-written file.
async function copyAtomically(from: string, to: string): Promise<void> {
  const temp = `${to}.${process.pid}.tmp`;
  try {
    await copyFile(from, temp);
    await rename(temp, to);
  } finally {
    await rm(temp, { force: true });
  }
}

await main().catch((error: unknown) => {
  console.error(`models:sync: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
