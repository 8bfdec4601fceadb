// Pre-optimised copies of models (registry `optimized`, and the copy a published release gets): onnxruntime-node
// applies the graph optimisations once, offline, and writes the result; the browser's WASM backend then loads that
// copy and skips most of the work at session creation. `extended` is the highest level whose output does not depend
// on the machine that wrote it (`all` adds layout transforms for this CPU), and onnxruntime-web loads it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrt } from './loadOrt';

/** The graph levels a copy is written at (registry `optimized.level`). */
export type OptimizationLevel = 'basic' | 'extended';

/** The onnxruntime version that writes optimised copies here (onnxruntime-node's). */
export async function onnxruntimeVersion(): Promise<string> {
  const ort = await loadOrt();
  return ort.env.versions.node ?? ort.env.versions.common;
}

/**
 * Write the model `from` (a path or its bytes) optimised at `level` to the file `to`: same inputs, outputs and
 * results, fewer and fused nodes. onnxruntime writes the copy while it creates a session, so bytes that do not
 * load throw here.
 */
export async function writeOptimizedModel(from: string | Uint8Array, to: string, level: OptimizationLevel): Promise<void> {
  const ort = await loadOrt();
  const options = {
    graphOptimizationLevel: level,
    optimizedModelFilePath: to,
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // onnxruntime warns that a copy optimised beyond `basic` suits this runtime's CPU kernels; that is the point.
    logSeverityLevel: 3,
  } as const;
  const session =
    typeof from === 'string' ? await ort.InferenceSession.create(from, options) : await ort.InferenceSession.create(from, options);
  await session.release();
}

/** The optimised copy of `bytes` (written through a scratch file: onnxruntime writes copies only to a path). */
export async function optimizeModelBytes(bytes: Uint8Array, level: OptimizationLevel): Promise<Uint8Array> {
  const scratch = await mkdtemp(join(tmpdir(), 'ondevice-optimize-'));
  try {
    const to = join(scratch, `model.${level}.onnx`);
    await writeOptimizedModel(bytes, to, level);
    return new Uint8Array(await readFile(to));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
