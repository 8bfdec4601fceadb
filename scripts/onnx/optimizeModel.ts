// Pre-optimised copies of registry models (registry `optimized`): onnxruntime-node applies the graph
// optimisations once, offline, and writes the result; the browser's WASM backend then loads that copy and skips
// most of the work at session creation. `extended` is the highest level whose output does not depend on the
// machine that wrote it (`all` adds layout transforms for this CPU), and onnxruntime-web loads it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelEntry, OptimizedEntry } from '../../src/registry/ModelEntry';
import { sha256File } from './sha256File';

/** The onnxruntime version that writes optimised copies here (onnxruntime-node's). */
export function onnxruntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

/** The optimised copy's file name beside the original: `model.onnx` → `model.extended.onnx`. */
export function optimizedFileName(entry: Pick<ModelEntry, 'file'>, level: OptimizedEntry['level']): string {
  const extension = extname(entry.file);
  return `${basename(entry.file, extension)}.${level}${extension || '.onnx'}`;
}

/** Write `from` optimised at `level` to `to` (same inputs, outputs and results; fewer, fused nodes). */
export async function writeOptimizedModel(from: string, to: string, level: OptimizedEntry['level']): Promise<void> {
  const session = await ort.InferenceSession.create(from, {
    graphOptimizationLevel: level,
    optimizedModelFilePath: to,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // onnxruntime warns that a copy optimised beyond `basic` suits this runtime's CPU kernels; that is the point.
    logSeverityLevel: 3,
  });
  await session.release();
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
    return { file: optimizedFileName(entry, level), sha256, bytes, level, onnxruntime: onnxruntimeVersion() };
  } finally {
    if (!keepAt) await rm(dirname(scratch), { recursive: true, force: true });
  }
}
