import * as v from 'valibot';
import {
  EvaluateUpdateSchema,
  MAX_HEAD_WEIGHTS,
  maxUpdateBytes,
  RoundOfferSchema,
  TrainUpdateSchema,
  type RoundOffer,
} from '../core/schema/FederatedRound';
import { issuePath } from '../core/schema/issuePath';
import { HttpError } from '../http/HttpError';
import type { Round, RoundStore } from './RoundStore';

/** A refusal of a round request: an HttpError with one of these codes (and `path` where it applies). */
function refusal(status: number, code: RoundRefusalCode, message: string, path = '$'): HttpError {
  return new HttpError(status, code, message, { path });
}

/** Every code a client's round request can be refused with (docs/retraining.md, "Federated mode"). */
export type RoundRefusalCode =
  'INVALID_INPUT' | 'UNKNOWN_ROUND' | 'ROUND_CLOSED' | 'DUPLICATE_UPDATE' | 'WRONG_SHAPE' | 'NOT_FINITE' | 'TOO_FEW_EXAMPLES';

/** Fewer examples than this in a train update: refused (a gradient of one example reveals its features). */
export const MIN_TRAIN_EXAMPLES = 10;

/**
 * The client side of rounds, over the round store: which round an install is offered, and whether an update is
 * taken. Every refusal is an HttpError with a stable code; nothing refused is ever stored or aggregated.
 */
export class FederatedRounds {
  constructor(
    private readonly store: RoundStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The open round of `modelId` for `installId`, unless there is none or the install already answered it. */
  async offerFor(modelId: string, installId: string): Promise<RoundOffer | undefined> {
    const nowMs = this.now();
    const round = await this.store.openRoundOf(modelId, nowMs);
    if (!round || (await this.store.hasUpdate(round.id, installId))) return undefined;
    return v.parse(RoundOfferSchema, { ...round.offer, roundId: round.id, deadlineMs: Math.max(0, round.deadlineMs - nowMs) });
  }

  /** The open round an update names, or why it cannot take one; with the largest body it may have. */
  async roundForUpdate(modelId: string, roundId: string): Promise<{ round: Round; maxBytes: number }> {
    const round = await this.store.get(roundId);
    if (!round || round.modelId !== modelId)
      throw refusal(404, 'UNKNOWN_ROUND', `no round ${JSON.stringify(roundId.slice(0, 64))} of ${modelId}`);
    if (round.state !== 'open' || round.deadlineMs <= this.now())
      throw refusal(409, 'ROUND_CLOSED', `round ${round.seq} of ${modelId} is closed`);
    const { features, classes } = headSize(round);
    return { round, maxBytes: maxUpdateBytes(features, classes) };
  }

  /**
   * Check `text` as an update of `round` (its kind's schema, finite numbers, the head's shape, enough examples)
   * and store it, once per install (`installId`, the install the request names).
   */
  async acceptUpdate(round: Round, text: string, installId: string): Promise<void> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw refusal(400, 'INVALID_INPUT', 'the body is not JSON');
    }
    const { features, classes } = headSize(round);
    if (round.kind === 'train') {
      for (const key of ['dW', 'db'] as const) {
        const values = (json as Record<string, unknown> | null)?.[key];
        if (Array.isArray(values)) {
          const bad = values.findIndex((x) => typeof x === 'number' && !Number.isFinite(x));
          if (bad >= 0) throw refusal(400, 'NOT_FINITE', `${key}[${bad}] is not a finite number`, `$.${key}[${bad}]`);
        }
      }
    }
    const parsed = v.safeParse(round.kind === 'train' ? TrainUpdateSchema : EvaluateUpdateSchema, json, { abortEarly: true });
    if (!parsed.success) {
      const [issue] = parsed.issues;
      throw refusal(400, 'INVALID_INPUT', `not a ${round.kind} update: ${issue.message}`, issuePath(issue));
    }
    const update = parsed.output;
    if (update.installId !== installId)
      throw refusal(400, 'INVALID_INPUT', 'installId must be the install the request names (?install=)', '$.installId');
    if ('dW' in update) {
      if (update.dW.length !== features * classes || update.db.length !== classes)
        throw refusal(
          400,
          'WRONG_SHAPE',
          `dW must have ${features} × ${classes} = ${features * classes} values and db ${classes}; got ${update.dW.length} and ${update.db.length}`,
        );
      if (update.examples < MIN_TRAIN_EXAMPLES)
        throw refusal(
          422,
          'TOO_FEW_EXAMPLES',
          `an update must come from at least ${MIN_TRAIN_EXAMPLES} examples, got ${update.examples}`,
          '$.examples',
        );
    } else if (update.examples < 1) throw refusal(422, 'TOO_FEW_EXAMPLES', 'an evaluation needs held-back examples', '$.examples');
    const added = await this.store.addUpdate(round.id, update.installId, JSON.stringify(update), this.now());
    if (added === 'duplicate')
      throw refusal(
        409,
        'DUPLICATE_UPDATE',
        `install ${update.installId} already answered round ${round.seq}: one update per install per round`,
      );
    if (added === 'closed') throw refusal(409, 'ROUND_CLOSED', `round ${round.seq} closed before this update arrived`);
    if (added === 'unknown') throw refusal(404, 'UNKNOWN_ROUND', `no round ${round.id}`);
  }
}

function headSize(round: Round): { features: number; classes: number } {
  const head = (round.offer as { head?: { features?: unknown; classes?: unknown } }).head;
  const features = Number(head?.features);
  const classes = Number(head?.classes);
  if (!(features * classes > 0 && features * classes <= MAX_HEAD_WEIGHTS)) throw new Error(`round ${round.id} has no usable head size`);
  return { features, classes };
}
