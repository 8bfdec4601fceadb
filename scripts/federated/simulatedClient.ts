// A federated client in Node, for tests and scripts that drive the server's rounds without a browser: the same maths as the
// page's worker (src/runtime/headRound.ts) on features computed with onnxruntime-node from the round's variant.
import { headCorrect } from '../../src/core/federated/SoftmaxHead';
import { trainHeadLocally } from '../../src/core/federated/trainHeadLocally';
import type { RoundOffer } from '../../src/core/schema/FederatedRound';

export interface ClientData {
  installId: string;
  /** [n, F] row-major, with each row's label and whether it is held back. */
  features: Float32Array;
  labels: number[];
  heldBack: boolean[];
  /** The current version's class for each row (its own output). */
  current: number[];
}

/** The update this client sends for `offer`, computed as the page's worker computes it. */
export function simulatedUpdate(client: ClientData, offer: RoundOffer, transform: (u: { dW: number[]; db: number[] }) => void = () => {}) {
  const F = offer.head.features;
  const rows = (held: boolean) => client.labels.flatMap((_, i) => (client.heldBack[i] === held ? [i] : []));
  const pick = (indices: number[]) => {
    const features = new Float32Array(indices.length * F);
    indices.forEach((i, k) => features.set(client.features.subarray(i * F, (i + 1) * F), k * F));
    return { features, labels: indices.map((i) => client.labels[i]) };
  };
  const head = { featureCount: F, classes: offer.head.classes, weight: offer.head.W, bias: offer.head.b };
  const held = rows(true);
  if (offer.kind === 'evaluate')
    return {
      installId: client.installId,
      examples: held.length,
      correctCurrent: held.filter((i) => client.current[i] === client.labels[i]).length,
      correctCandidate: headCorrect(head, pick(held)),
    };
  const train = pick(rows(false));
  const u = trainHeadLocally(head, train, { epochs: offer.epochs, learningRate: offer.learningRate, batchSize: offer.batchSize });
  const update = { dW: Array.from(u.dW), db: Array.from(u.db) };
  transform(update);
  return {
    installId: client.installId,
    ...update,
    examples: train.labels.length,
    heldBack: { examples: held.length, correct: headCorrect(head, pick(held)) },
  };
}
