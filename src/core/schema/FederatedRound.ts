// The federated rounds' wire protocol (docs/retraining.md, "Federated mode"), written once as valibot schemas:
// the page's federated client reads offers and writes updates with them, the server validates with them.
// `GET /v1/federated/{model}/round?install=` answers a RoundOffer (or 204); `POST …/rounds/{roundId}/updates`
// takes a TrainUpdate or an EvaluateUpdate, as the round's kind says. No input ever travels: only head
// weights, their change, and counts.
import * as v from 'valibot';

const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const positiveInt = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
/** JSON.parse turns 1e999 into Infinity: every weight is checked finite. */
const finite = v.pipe(v.number(), v.finite());

/** Heads of at most this many weights (F × C) are trainable: bounds every offer and update (24 MB as JSON). */
export const MAX_HEAD_WEIGHTS = 1_000_000;

/** The largest update body for a head of F × C weights: each number as JSON takes at most 24 bytes, plus room for the rest. */
export function maxUpdateBytes(featureCount: number, classes: number): number {
  return 24 * (featureCount * classes + classes) + 4096;
}

export const RoundKindSchema = v.picklist(['train', 'evaluate']);
export type RoundKind = v.InferOutput<typeof RoundKindSchema>;

/** What a client does in a round: the head to start from (train) or to score (evaluate), and how. */
export const RoundOfferSchema = v.pipe(
  v.object({
    roundId: v.pipe(v.string(), v.regex(ID)),
    kind: RoundKindSchema,
    modelId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
    /** The model version whose features the head reads (the job's current stable version). */
    version: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    /** The version's variant that also outputs `features` (derived at publish), and which output is the head's. */
    model: v.object({
      url: v.pipe(v.string(), v.minLength(1)),
      sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
      bytes: positiveInt,
      features: v.pipe(v.string(), v.minLength(1)),
      output: v.pipe(v.string(), v.minLength(1)),
    }),
    /** `W` is [features, classes] row-major. */
    head: v.object({ W: v.array(finite), b: v.array(finite), features: positiveInt, classes: v.pipe(positiveInt, v.minValue(2)) }),
    epochs: positiveInt,
    learningRate: v.pipe(v.number(), v.finite(), v.gtValue(0)),
    batchSize: positiveInt,
    /** Share of its examples a client keeps out of training (the same ones every round: decided by example id). */
    heldBackFraction: v.pipe(v.number(), v.minValue(0), v.maxValue(0.5)),
    /** A client with fewer usable local examples does not answer. */
    minExamples: positiveInt,
    /** Milliseconds left to answer: after that the round closes without this client. */
    deadlineMs: count,
  }),
  v.check(
    (o) => o.head.features * o.head.classes <= MAX_HEAD_WEIGHTS && o.head.W.length === o.head.features * o.head.classes,
    'head.W must have features × classes values',
  ),
  v.check((o) => o.head.b.length === o.head.classes, 'head.b must have classes values'),
);
export type RoundOffer = v.InferOutput<typeof RoundOfferSchema>;

/** A train round's answer: the trained head minus the offered one, and how many examples it came from. */
export const TrainUpdateSchema = v.strictObject({
  installId: v.pipe(v.string(), v.regex(ID)),
  dW: v.array(finite),
  db: v.array(finite),
  /** Examples trained on (the client's own count; the server caps its weight). */
  examples: count,
  /** The offered head's result on the client's held-back examples (a progress figure; the gate does not use it). */
  heldBack: v.optional(v.strictObject({ examples: count, correct: count })),
  /** Examples whose label is not a class index of the head: not used. */
  unusableLabels: v.optional(count),
});
export type TrainUpdate = v.InferOutput<typeof TrainUpdateSchema>;

/** An evaluate round's answer: on the client's held-back examples, how many the current version and the candidate get right. */
export const EvaluateUpdateSchema = v.pipe(
  v.strictObject({
    installId: v.pipe(v.string(), v.regex(ID)),
    examples: count,
    correctCurrent: count,
    correctCandidate: count,
    unusableLabels: v.optional(count),
  }),
  v.check((u) => u.correctCurrent <= u.examples && u.correctCandidate <= u.examples, 'correct counts cannot exceed examples'),
);
export type EvaluateUpdate = v.InferOutput<typeof EvaluateUpdateSchema>;
