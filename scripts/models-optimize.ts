// npm run models:optimize [-- id[@version] ...] [--level extended]
// Writes a pre-optimised copy of registry models with onnxruntime-node (the WASM backend loads it instead of the
// original: session creation skips the optimisations already applied), checks that it computes the same outputs
// as the original on the entry's sample inputs, and records it as the entry's `optimized` field
// ({file, sha256, bytes, level, onnxruntime}). Without ids it re-derives every entry that has one (after an
// onnxruntime upgrade). `npm run models:sync` then writes the copy to public/models/ and verifies it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { checkSameOutputs } from '../src/node/checkSameOutputs';
import type { ModelEntry } from '../src/registry/ModelEntry';
import { sampleFeeds } from '../src/core/sampleFeeds';
import { optimizedEntryFor } from './onnx/optimizeModel';
import { readRegistry, writeRegistry } from './onnx/registryFile';
import { sourcePath } from './onnx/sourcePath';

const USAGE = 'usage: npm run models:optimize -- [id[@version] ...] [--level basic|extended]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { level: { type: 'string', default: 'extended' } }, allowPositionals: true });
  const level = values.level;
  if (level !== 'basic' && level !== 'extended') throw new Error(`--level must be basic or extended (got ${level}); ${USAGE}`);
  const registry = await readRegistry();
  const picked = positionals.length ? positionals.map((ref) => find(registry, ref)) : registry.filter((e) => e.optimized);
  if (picked.length === 0) throw new Error(`no entry has an optimized copy yet; name the models: ${USAGE}`);
  const scratch = await mkdtemp(join(tmpdir(), 'ondevice-optimize-'));
  try {
    for (const entry of picked) {
      const original = sourcePath(entry);
      const copy = join(scratch, `${entry.id}-${entry.version}.onnx`);
      const optimized = await optimizedEntryFor(original, entry, level, copy);
      const worst = await checkSameOutputs(original, copy, sampleFeeds(entry.inputs, entry.sample), `${entry.id}@${entry.version}`);
      const [before, after] = await sessionCreationMs(original, copy);
      entry.optimized = optimized;
      console.log(
        `${entry.id}@${entry.version}: ${optimized.file} (${level}, onnxruntime ${optimized.onnxruntime}) ${entry.bytes} → ${optimized.bytes} bytes; ` +
          `same outputs (largest difference ${worst.toExponential(2)}); session creation in onnxruntime-node ${before.toFixed(0)} → ${after.toFixed(0)} ms`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await writeRegistry(registry);
  console.log('models:optimize: models/registry.json updated; npm run models:sync writes the copies to public/models/');
}

function find(registry: ModelEntry[], ref: string): ModelEntry {
  const [id, version] = ref.split('@');
  const matches = registry.filter((e) => e.id === id && (version === undefined || e.version === version));
  if (matches.length === 0) throw new Error(`no registry entry ${ref} (known: ${registry.map((e) => `${e.id}@${e.version}`).join(', ')})`);
  if (matches.length > 1) throw new Error(`${ref} names ${matches.length} versions; say which (${id}@<version>)`);
  return matches[0];
}

/** Median session creation (graph level `all`, as the browser worker uses) of each file, alternating, 5 each. */
async function sessionCreationMs(...paths: string[]): Promise<number[]> {
  const times = paths.map(() => [] as number[]);
  for (let round = 0; round < 5; round++) {
    for (const [i, path] of paths.entries()) {
      const started = performance.now();
      const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
      times[i].push(performance.now() - started);
      await session.release();
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

await main().catch((error: unknown) => {
  console.error(`models:optimize: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
