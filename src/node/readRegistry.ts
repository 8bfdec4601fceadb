import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { OnDeviceError } from '../core/OnDeviceError';
import type { ModelEntry } from '../registry/ModelEntry';
import { parseRegistry } from '../registry/parseRegistry';

/** Read and validate `<modelsDir>/registry.json`. */
export async function readRegistry(modelsDir: string): Promise<ModelEntry[]> {
  const file = path.join(modelsDir, 'registry.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new OnDeviceError('MODEL_FETCH_FAILED', `Could not read the model registry ${file}: ${(error as Error).message}`, { file });
  }
  const json = JSON.parse(text) as unknown;
  return parseRegistry(Array.isArray(json) ? json : ((json as { models?: unknown }).models ?? json));
}
