// Data for the retraining tests that need no trained CNN: MNIST digits from the `mnist` package and a
// "drifted" population that writes them pushed against the right edge of the box (shifted 6 pixels, a
// style MNIST's centred digits lack), as dataset-export lines.
import { createRequire } from 'node:module';
import type { FieldSample } from '../../src/retrain/FieldSample';

const mnist = createRequire(import.meta.url)('mnist') as Array<{ get(i: number): number[]; length: number }>;

const SHIFT = 6;

export function digitImage(digit: number, index: number, drifted: boolean): number[] {
  const pixels = mnist[digit].get(index);
  if (!drifted) return pixels;
  return pixels.map((_, i) => {
    const x = (i % 28) - SHIFT;
    return x >= 0 ? pixels[i - SHIFT] : 0;
  });
}

/** `perClass` samples of each digit from `start` (indices past 200, the prototype trainer's base). */
export function toySamples(o: { start: number; perClass: number; drifted: boolean; fromMs?: number; install?: string }): FieldSample[] {
  const out: FieldSample[] = [];
  for (let i = 0; i < o.perClass; i++)
    for (let d = 0; d < 10; d++) {
      const n = out.length;
      out.push({
        id: `s-${o.drifted ? 't' : 'b'}-${o.start + i}-${d}`,
        receivedMs: (o.fromMs ?? 1_000) + n,
        installId: o.install ?? 'install-1',
        modelId: 'toy',
        modelVersion: '1',
        predictionId: `p-${n}`,
        label: d,
        inputs: { image: { type: 'float32', dims: [1, 1, 28, 28], data: digitImage(d, o.start + i, o.drifted) } },
      });
    }
  return out;
}
