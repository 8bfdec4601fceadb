import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OnDeviceError } from '../core/OnDeviceError';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { findModel } from '../registry/findModel';
import type { ModelEntry } from '../registry/ModelEntry';
import { readRegistry } from './readRegistry';

/** What `loadModel` accepts on Node: a registry id (`tiny-mlp`, `tiny-mlp@1`), an entry, a URL or a file path. */
export type NodeModelInput = string | URL | ModelEntry;

/** A model resolved to exactly one place: `file` or `url`. */
export interface NodeModelSource {
  id: string;
  version?: string;
  file?: string;
  url?: string;
  sha256?: string;
  /** From the registry entry: symbolic dim names survive here, onnxruntime-node may not report them. */
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}

/**
 * Turn a model input into a file or URL. A registry id is only ever looked up in the registry, whose
 * file names are validated plain names, so an id never reaches the file system unchecked.
 */
export async function resolveNodeSource(input: NodeModelInput, options: { modelsDir: string; sha256?: string }): Promise<NodeModelSource> {
  if (input instanceof URL) input = input.href;
  if (typeof input === 'object' && input !== null) return fromEntry(input, options.modelsDir);
  if (typeof input !== 'string' || input.length === 0) {
    throw new OnDeviceError('INVALID_INPUT', 'loadModel(source): source must be a registry id, a registry entry, a URL or a file path');
  }
  if (/^https?:\/\//i.test(input)) return { url: input, id: idFromPath(new URL(input).pathname), sha256: options.sha256 };
  if (/^file:/i.test(input)) input = fileURLToPath(input);
  if (input.endsWith('.onnx') || input.includes('/') || input.includes(path.sep)) {
    const file = path.resolve(input);
    return { file, id: idFromPath(file), sha256: options.sha256 };
  }
  const registry = await readRegistry(options.modelsDir);
  const entry = findModel(registry, input);
  if (!entry) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `Unknown model id "${input}"; the registry has ${[...new Set(registry.map((e) => e.id))].join(', ')}`,
      {
        modelId: input,
      },
    );
  }
  return fromEntry(entry, options.modelsDir);
}

function fromEntry(entry: ModelEntry, modelsDir: string): NodeModelSource {
  if (typeof entry.file !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(entry.file) || typeof entry.id !== 'string') {
    throw new OnDeviceError('INVALID_INPUT', 'A registry entry needs an `id` and a plain `file` name (no folders)');
  }
  return {
    file: path.join(modelsDir, entry.file),
    id: entry.id,
    version: entry.version,
    sha256: entry.sha256,
    inputs: entry.inputs,
    outputs: entry.outputs,
  };
}

function idFromPath(p: string): string {
  const base = decodeURIComponent(p.split(/[\\/]/).pop() ?? '');
  return base.replace(/\.[^.]+$/, '') || 'model';
}
