// npm run models:generate [-- --check]
// Writes the models this repo builds itself (scripts/onnx/models/*) to models/generated/ and updates
// their registry entries (sha256, bytes, inputs, outputs). --check changes nothing and exits 1 when
// a file or an entry is out of date (for CI).
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ModelEntry } from '../src/registry/ModelEntry';
import { describeModel } from './onnx/describeModel';
import { GENERATED_MODELS } from './onnx/generatedModels';
import { readRegistry, writeRegistry } from './onnx/registryFile';
import { writeGeneratedModel } from './onnx/writeGeneratedModel';

const check = process.argv.includes('--check');

async function main(): Promise<number> {
  const registry = await readRegistry();
  const stale: string[] = [];
  for (const model of GENERATED_MODELS) {
    const { data, changed: fileStale } = await writeGeneratedModel(model, { dryRun: check });
    const { inputs, outputs } = await describeModel(data);
    const entry: ModelEntry = {
      ...model.entry,
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: data.length,
      inputs,
      outputs,
    };
    const at = registry.findIndex((e) => e.id === entry.id && e.version === entry.version);
    const entryStale = at < 0 || !isDeepStrictEqual(plain(registry[at]), plain(entry));
    if (fileStale || entryStale)
      stale.push(`${entry.id}@${entry.version}${fileStale ? ' (file)' : ''}${entryStale ? ' (registry entry)' : ''}`);
    if (check) continue;
    if (at < 0) registry.push(entry);
    else registry[at] = entry;
    console.log(`models:generate: ${entry.file} ${entry.bytes} bytes sha256 ${entry.sha256}${fileStale ? ' (written)' : ''}`);
  }
  if (check) {
    if (stale.length === 0) return 0;
    console.error(`models:generate --check: out of date: ${stale.join(', ')}; run npm run models:generate`);
    return 1;
  }
  if (stale.length > 0) await writeRegistry(registry);
  return 0;
}

/** Drop undefined fields so optional-but-absent compares equal to missing. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

process.exitCode = await main().catch((error: unknown) => {
  console.error(`models:generate: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
