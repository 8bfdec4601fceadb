// npm run models:add -- path/to/model.onnx [--id x] [--version 1] [--license SPDX] [--task t]
//                        [--description text] [--file name.onnx] [--force] [--registry models/registry.json]
// Measures a model (sha256, bytes, inputs/outputs via onnxruntime-node), keeps a copy in models/local/
// when it lives outside the repo, and writes its entry into models/registry.json. A model whose weights are in
// external data files has them read from its tensors' locations beside it and recorded (externalData, totalBytes);
// each is stored as a plain file name (the location itself when it is one, else `<id>.<location made plain>`).
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { DataFileEntry, ModelEntry, ModelSourceRef } from '../src/registry/ModelEntry';
import { externalDataFiles } from '../src/core/onnx/externalDataFiles';
import { readModelTensors } from '../src/core/onnx/readExternalData';
import { describeModel } from './onnx/describeModel';
import { LOCAL_MODELS_DIR, REGISTRY_PATH, REPO_ROOT } from './onnx/paths';
import { readRegistry, toRegistryJson, writeRegistry } from './onnx/registryFile';
import { sha256File } from './onnx/sha256File';

const USAGE =
  'usage: npm run models:add -- <model.onnx> [--id x] [--version 1] [--license SPDX] [--task t] [--description text] [--file name.onnx] [--force]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      id: { type: 'string' },
      version: { type: 'string' },
      license: { type: 'string' },
      task: { type: 'string' },
      description: { type: 'string' },
      file: { type: 'string' },
      force: { type: 'boolean', default: false },
      registry: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new Error(USAGE);
  const modelPath = resolve(positionals[0]);
  if (!existsSync(modelPath)) throw new Error(`${positionals[0]} does not exist`);

  const { sha256, bytes } = await sha256File(modelPath);
  const id = values.id ?? slug(basename(modelPath).replace(/\.onnx$/i, ''));
  const externalData = await dataFilesOf(modelPath, id);
  const { inputs, outputs } = await describeModel(modelPath).catch((error: unknown) => {
    throw new Error(`onnxruntime-node cannot load ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const file = values.file ?? basename(modelPath);
  const version = values.version ?? '1';

  const registryPath = values.registry ? resolve(values.registry) : REGISTRY_PATH;
  const registry = await readRegistry(registryPath);
  const existing = registry.find((e) => e.id === id && e.version === version);
  if (existing && !values.force) throw new Error(`${id}@${version} is already registered; pass --force to replace it, or --version`);
  const taken = registry.filter((e) => e !== existing).flatMap((e) => [e, ...(e.assets ?? []), ...(e.externalData ?? [])]);
  for (const mine of [{ file, sha256 }, ...externalData]) {
    if (taken.some((item) => item.file === mine.file && item.sha256 !== mine.sha256)) {
      throw new Error(`public/models/${mine.file} is already taken by another file; pass --file <name> (or --id, which names data files)`);
    }
  }

  const source = await sourceOf(modelPath, file, values.force, externalData);
  const license = values.license ?? existing?.license ?? 'NOASSERTION';
  if (license === 'NOASSERTION') console.warn('models:add: no --license given; recorded NOASSERTION');
  const entry: ModelEntry = {
    ...existing,
    id,
    version,
    file,
    sha256,
    bytes,
    ...(externalData.length > 0 ? { externalData, totalBytes: bytes + externalData.reduce((sum, d) => sum + d.bytes, 0) } : {}),
    license,
    source,
    task: values.task ?? existing?.task ?? 'unknown',
    description: values.description ?? existing?.description ?? '',
    inputs,
    outputs,
  };
  await writeRegistry([...registry.filter((e) => e !== existing), entry], registryPath);
  console.log(toRegistryJson(entry));
}

/**
 * The external data files the model's tensors name, beside it: INVALID_INPUT-style errors for a bad location,
 * a missing file, or a file too short for its tensors.
 */
async function dataFilesOf(modelPath: string, id: string): Promise<DataFileEntry[]> {
  let tensors;
  try {
    tensors = readModelTensors(readFileSync(modelPath), basename(modelPath));
  } catch {
    return []; // not ONNX at all: onnxruntime-node says why, below
  }
  const files = externalDataFiles(tensors.external, basename(modelPath));
  const out: DataFileEntry[] = [];
  for (const f of files) {
    const path = join(dirname(modelPath), f.location);
    if (!existsSync(path))
      throw new Error(`${basename(modelPath)} names external data file "${f.location}", which is not beside it (${path})`);
    const { sha256, bytes } = await sha256File(path);
    if (bytes < f.extentBytes)
      throw new Error(`external data file "${f.location}" holds ${bytes} bytes; the model's tensors reach byte ${f.extentBytes}`);
    const plain = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(f.location) ? f.location : `${id}.${f.location.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
    out.push({ location: f.location, file: plain, sha256, bytes });
  }
  return out;
}

/** Inside node_modules: the package; inside the repo: its path; elsewhere: a copy in models/local/ (data files beside it). */
async function sourceOf(modelPath: string, file: string, force: boolean, externalData: DataFileEntry[]): Promise<ModelSourceRef> {
  const fromRoot = relative(REPO_ROOT, modelPath);
  const inRepo = fromRoot !== '' && !fromRoot.startsWith('..') && !isAbsolute(fromRoot);
  const parts = fromRoot.split(sep);
  const nm = parts.lastIndexOf('node_modules');
  if (inRepo && nm >= 0) {
    const nameParts = parts[nm + 1]?.startsWith('@') ? 2 : 1;
    const packageRoot = join(REPO_ROOT, ...parts.slice(0, nm + 1 + nameParts));
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name: string; license?: string };
    return { package: pkg.name, path: parts.slice(nm + 1 + nameParts).join('/'), license: pkg.license ?? 'NOASSERTION' };
  }
  if (inRepo) return { repoPath: parts.join('/') };
  const target = join(LOCAL_MODELS_DIR, file);
  if (existsSync(target) && !readFileSync(target).equals(readFileSync(modelPath)) && !force) {
    throw new Error(`models/local/${file} already exists with other bytes; pass --force to overwrite, or --file`);
  }
  await mkdir(LOCAL_MODELS_DIR, { recursive: true });
  await copyFile(modelPath, target);
  for (const d of externalData) {
    const to = join(LOCAL_MODELS_DIR, d.location);
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(dirname(modelPath), d.location), to);
  }
  return { repoPath: `models/local/${file}` };
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
}

await main().catch((error: unknown) => {
  console.error(`models:add: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
