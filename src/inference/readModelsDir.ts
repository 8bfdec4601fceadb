import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { OnDeviceError } from '../core/OnDeviceError';
import { assertTensorsFitFiles, externalDataFiles } from '../core/onnx/externalDataFiles';
import { readModelTensors } from '../core/onnx/readExternalData';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { readRegistry } from '../node/readRegistry';
import type { ModelEntry } from '../registry/ModelEntry';
import { readSignatureInSandbox, type ModelFiles, type SandboxSettings } from '../sandbox';

const ID_START = /^[^a-z0-9]+/;
const NOT_IN_ID = /[^a-z0-9._-]/g;

/** What `--models-dir` (and `ONDEVICE_MODELS_DIR`) takes, said when a folder has neither. */
export const MODELS_DIR_HELP =
  'pass --models-dir (or set ONDEVICE_MODELS_DIR to) a folder with a registry.json, or a folder of .onnx files (each served as its file name)';

/**
 * The id a model file is served as: its name without `.onnx`, lower-cased, every character outside the id
 * rules (`a-z 0-9 . _ -`) replaced by `-`, and what cannot start an id dropped from the front.
 *
 * @example
 * idOfModelFile('My Model v2.onnx') // 'my-model-v2'
 */
export function idOfModelFile(name: string): string {
  return name
    .replace(/\.onnx$/i, '')
    .toLowerCase()
    .replace(NOT_IN_ID, '-')
    .replace(ID_START, '');
}

/**
 * The models a folder serves: the entries of its `registry.json` when it has one; otherwise each `.onnx` file
 * in it, as version 1 of `idOfModelFile(name)` — hashed, its external data files (named by the model, beside it)
 * found, hashed and counted, and its inputs and outputs read by loading it in a sandbox child (never on this
 * thread). Two files that map to one id are INVALID_INPUT naming both; a folder with neither is INVALID_INPUT
 * saying what to pass.
 *
 * @example
 * const entries = await readModelsDir('/srv/models'); // [{ id: 'resnet50', version: '1', file: 'ResNet50.onnx', … }]
 */
export async function readModelsDir(dir: string, options: { sandbox?: SandboxSettings } = {}): Promise<ModelEntry[]> {
  if (existsSync(path.join(dir, 'registry.json'))) return readRegistry(dir);
  const names = await readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new OnDeviceError('INVALID_INPUT', `Cannot read the models folder ${dir} (${e.code ?? e.message}): ${MODELS_DIR_HELP}`, { dir });
  });
  const files = names
    .filter((d) => (d.isFile() || d.isSymbolicLink()) && /\.onnx$/i.test(d.name))
    .map((d) => d.name)
    .sort();
  if (files.length === 0) {
    throw new OnDeviceError('INVALID_INPUT', `${dir} has no registry.json and no .onnx files: ${MODELS_DIR_HELP}`, { dir });
  }
  const byId = new Map<string, string>();
  for (const name of files) {
    const id = requireIdOf(name, path.join(dir, name));
    const other = byId.get(id);
    if (other !== undefined) {
      throw new OnDeviceError(
        'INVALID_INPUT',
        `${path.join(dir, other)} and ${path.join(dir, name)} would both be served as model "${id}": rename one`,
        { id, files: [other, name] },
      );
    }
    byId.set(id, name);
  }
  const entries: ModelEntry[] = [];
  for (const [id, name] of [...byId].sort(([a], [b]) => (a < b ? -1 : 1))) entries.push(await entryOfFile(dir, id, name, options.sandbox));
  return entries;
}

/**
 * One model file served alone (`ondevice serve path/to/model.onnx`): version 1 of `idOfModelFile(its name)`, its
 * external data files found beside it by the locations it names, read like a file of a plain folder (readModelsDir).
 * A path that is not an .onnx file is INVALID_INPUT; a missing data file MODEL_FETCH_FAILED naming it.
 *
 * @example
 * const [entry] = await readModelFile('./export/model.onnx'); // { id: 'model', version: '1', externalData: [...] }
 */
export async function readModelFile(file: string, options: { sandbox?: SandboxSettings } = {}): Promise<ModelEntry[]> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || !/\.onnx$/i.test(file))
    throw new OnDeviceError('INVALID_INPUT', `${file} is not an .onnx file: pass the model file (its external data beside it)`, { file });
  const name = path.basename(file);
  return [await entryOfFile(path.dirname(path.resolve(file)), requireIdOf(name, file), name, options.sandbox)];
}

/** `idOfModelFile(name)`, or INVALID_INPUT naming the file (`shownAs`) when its name gives none. */
function requireIdOf(name: string, shownAs: string): string {
  const id = idOfModelFile(name);
  if (!id) throw new OnDeviceError('INVALID_INPUT', `${shownAs}: its name gives no model id (letters or digits needed)`, { file: name });
  return id;
}

async function entryOfFile(dir: string, id: string, name: string, sandbox: SandboxSettings | undefined): Promise<ModelEntry> {
  const file = path.join(dir, name);
  const onnx = await readFile(file);
  const references = readModelTensors(onnx, name).external;
  const dataFiles = [];
  const sizes = new Map<string, number>();
  for (const { location } of externalDataFiles(references, name)) {
    const at = path.join(dir, location);
    const info = await stat(at).catch(() => undefined);
    if (!info?.isFile())
      throw new OnDeviceError('MODEL_FETCH_FAILED', `${name} names external data file "${location}", which is not at ${at}`, { location });
    sizes.set(location, info.size);
    dataFiles.push({ location, file: location, sha256: await sha256OfFile(at), bytes: info.size });
  }
  assertTensorsFitFiles(references, sizes, name);
  const files: ModelFiles = { onnx: file, externalData: dataFiles.map((d) => d.location) };
  let signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  try {
    signature = await readSignatureInSandbox(files, { settings: sandbox, label: `loading ${name}` });
  } catch (e) {
    if (e instanceof OnDeviceError) throw new OnDeviceError(e.code, `${file}: ${e.message}`, { ...e.details, file });
    throw e;
  }
  const totalBytes = onnx.byteLength + dataFiles.reduce((n, d) => n + d.bytes, 0);
  return {
    id,
    version: '1',
    file: name,
    sha256: createHash('sha256').update(onnx).digest('hex'),
    bytes: onnx.byteLength,
    ...(dataFiles.length > 0 ? { externalData: dataFiles, totalBytes } : {}),
    license: 'unknown',
    source: { repoPath: name },
    task: 'unknown',
    description: `${name} from ${dir}`,
    inputs: signature.inputs,
    outputs: signature.outputs,
  };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(piece as Buffer);
  return hash.digest('hex');
}
