// npm run models:add -- path/to/model.onnx [--id x] [--version 1] [--license SPDX] [--task t]
//                        [--description text] [--file name.onnx] [--force] [--registry models/registry.json]
// Measures a model (sha256, bytes, inputs/outputs via onnxruntime-node), keeps a copy in models/local/
// when it lives outside the repo, and writes its entry into models/registry.json.
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import type { ModelEntry, ModelSourceRef } from '../src/registry/ModelEntry';
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
  const { inputs, outputs } = await describeModel(modelPath).catch((error: unknown) => {
    throw new Error(`onnxruntime-node cannot load ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const file = values.file ?? basename(modelPath);
  const id = values.id ?? slug(basename(modelPath).replace(/\.onnx$/i, ''));
  const version = values.version ?? '1';

  const registryPath = values.registry ? resolve(values.registry) : REGISTRY_PATH;
  const registry = await readRegistry(registryPath);
  const existing = registry.find((e) => e.id === id && e.version === version);
  if (existing && !values.force) throw new Error(`${id}@${version} is already registered; pass --force to replace it, or --version`);
  const clash = registry
    .flatMap((e) => [e, ...(e.assets ?? [])])
    .find((item) => item !== existing && item.file === file && item.sha256 !== sha256);
  if (clash) throw new Error(`public/models/${file} is already taken by another file; pass --file <name>`);

  const source = await sourceOf(modelPath, file, values.force);
  const license = values.license ?? existing?.license ?? 'NOASSERTION';
  if (license === 'NOASSERTION') console.warn('models:add: no --license given; recorded NOASSERTION');
  const entry: ModelEntry = {
    ...existing,
    id,
    version,
    file,
    sha256,
    bytes,
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

/** Inside node_modules: the package; inside the repo: its path; elsewhere: a copy in models/local/. */
async function sourceOf(modelPath: string, file: string, force: boolean): Promise<ModelSourceRef> {
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
