import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeneratedModel } from './generatedModel';
import { GENERATED_DIR } from './paths';

/**
 * Build a generated model into models/generated/. The file is only rewritten when its bytes change;
 * with `dryRun` nothing is written and `changed` says whether it would be.
 */
export async function writeGeneratedModel(
  model: GeneratedModel,
  { dryRun = false } = {},
): Promise<{ path: string; data: Uint8Array; changed: boolean }> {
  const path = join(GENERATED_DIR, model.entry.file);
  const data = model.build();
  const changed = !existsSync(path) || !Buffer.from(data).equals(readFileSync(path));
  if (changed && !dryRun) {
    await mkdir(GENERATED_DIR, { recursive: true });
    await writeFile(path, data);
  }
  return { path, data, changed };
}
