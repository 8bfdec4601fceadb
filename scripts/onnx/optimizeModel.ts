// The registry's `optimized` field for a model file. The copy itself is written by src/node/optimizeModel.ts
// (onnxruntime-node, shared with the release server, which derives a copy of every published version).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { onnxruntimeVersion, writeOptimizedModel } from '../../src/node/optimizeModel';
import type { ModelEntry, OptimizedEntry } from '../../src/registry/ModelEntry';
import { sha256File } from './sha256File';

/** The optimised copy's file name beside the original: `model.onnx` → `model.extended.onnx`. */
export function optimizedFileName(entry: Pick<ModelEntry, 'file'>, level: OptimizedEntry['level']): string {
  const extension = extname(entry.file);
  return `${basename(entry.file, extension)}.${level}${extension || '.onnx'}`;
}

/**
 * The registry's `optimized` field for a model file: the copy is written to a scratch file, measured and
 * removed (`models:sync` writes it to public/models/ and checks it against this sha256).
 */
export async function optimizedEntryFor(
  from: string,
  entry: Pick<ModelEntry, 'file'>,
  level: OptimizedEntry['level'],
  keepAt?: string,
): Promise<OptimizedEntry> {
  const scratch = keepAt ?? join(await mkdtemp(join(tmpdir(), 'ondevice-optimize-')), 'model.onnx');
  try {
    await writeOptimizedModel(from, scratch, level);
    const { sha256, bytes } = await sha256File(scratch);
    return { file: optimizedFileName(entry, level), sha256, bytes, level, onnxruntime: await onnxruntimeVersion() };
  } finally {
    if (!keepAt) await rm(dirname(scratch), { recursive: true, force: true });
  }
}
