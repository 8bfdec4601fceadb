import { mulberry32 } from '../../core/mulberry32';
import { cornerDigits, type DriftedDigit } from './drift';
import { mnistSplit } from './mnistSplit';

/**
 * The population federated fine-tuning is shown on: `installs` users with `perInstall` labelled drawings each,
 * every other one in the corner drift (a page that does not centre its drawings: half size, top left) and the
 * others plain, centred MNIST digits. All come from the training side of `mnistSplit()` (no two drawings share a
 * source digit), so MNIST's held-out split and `cornerDigits(…, 'heldOut')` stay drawings no client had.
 * Deterministic for a seed.
 */
export function federatedPopulation(installs: number, perInstall: number, seed: number): DriftedDigit[][] {
  const cornerCount = installs * Math.ceil(perInstall / 2);
  const corner = cornerDigits(cornerCount, seed, 'train');
  const used = new Set(corner.map((d) => d.source.index));
  const train = mnistSplit().train;
  const random = mulberry32(seed * 977 + 13);
  const order = train.map((_, i) => i).filter((i) => !used.has(i));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let nextCorner = 0;
  let nextPlain = 0;
  return Array.from({ length: installs }, () =>
    Array.from({ length: perInstall }, (_, k) => {
      if (k % 2 === 0) return corner[nextCorner++];
      const index = order[nextPlain++];
      return { pixels: train[index].pixels, label: train[index].label, source: { from: 'train' as const, index } };
    }),
  );
}
