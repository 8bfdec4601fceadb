import { listLocalExamples } from '../../cache/localExamples';
import type { RoundOffer } from '../../core/schema/FederatedRound';
import type { HeadRoundRequest } from '../../core/protocol';
import { exampleHash } from './exampleHash';
import type { FederatedVariant } from './FederatedVariant';

/** What this device sends for a round, or why it sends nothing. */
export type RoundAnswer = { kind: 'update'; body: Record<string, unknown> } | { kind: 'skip'; reason: string };

/**
 * This device's part in one round: its kept examples of the model whose label is a class of the head are split
 * (by example id, the same way every round) into training and held-back ones; the variant's worker trains the
 * head or scores it. Returns the update to send: head changes and counts, never an input.
 */
export async function takePartInRound(offer: RoundOffer, variant: FederatedVariant, installId: string): Promise<RoundAnswer> {
  const { features: F, classes: C } = offer.head;
  const kept = await listLocalExamples(offer.modelId);
  const examples: HeadRoundRequest['examples'] = [];
  let unusableLabels = 0;
  for (const e of kept) {
    const label = typeof e.label === 'number' ? e.label : /^\d{1,9}$/.test(e.label) ? Number(e.label) : Number.NaN;
    const feeds = variant.feedsOf(e.inputs);
    if (!(Number.isInteger(label) && label >= 0 && label < C) || !feeds) {
      unusableLabels++;
      continue;
    }
    examples.push({ feeds, label, heldBack: exampleHash(e.id) < offer.heldBackFraction });
  }
  if (examples.length < offer.minExamples)
    return { kind: 'skip', reason: `${examples.length} usable local examples, the round needs ${offer.minExamples}` };
  const training = examples.filter((e) => !e.heldBack).length;
  if (offer.kind === 'train' && training < Math.max(10, Math.floor(offer.minExamples / 2)))
    return { kind: 'skip', reason: `${training} examples to train on: too few to share a gradient of` };
  if (offer.kind === 'evaluate' && training === examples.length) return { kind: 'skip', reason: 'no held-back examples to evaluate on' };
  const result = await variant.headRound({
    kind: offer.kind,
    features: offer.model.features,
    output: offer.model.output,
    head: { weight: Float32Array.from(offer.head.W), bias: Float32Array.from(offer.head.b), featureCount: F, classes: C },
    examples,
    epochs: offer.epochs,
    learningRate: offer.learningRate,
    batchSize: offer.batchSize,
    seed: Math.floor(exampleHash(`${installId}/${offer.roundId}`) * 2 ** 31),
  });
  const rounded = (a: Float32Array) => Array.from(a, (x) => Number(x.toPrecision(7)));
  if (offer.kind === 'train') {
    const train = result.train!;
    return {
      kind: 'update',
      body: {
        installId,
        dW: rounded(train.dW),
        db: rounded(train.db),
        examples: train.examples,
        heldBack: { examples: result.heldBack.examples, correct: result.heldBack.correctRoundHead },
        unusableLabels,
      },
    };
  }
  return {
    kind: 'update',
    body: {
      installId,
      examples: result.heldBack.examples,
      correctCurrent: result.heldBack.correctCurrent,
      correctCandidate: result.heldBack.correctRoundHead,
      unusableLabels,
    },
  };
}
