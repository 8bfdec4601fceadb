import * as v from 'valibot';
import { countLocalExamples } from '../../cache/localExamples';
import { pageGlobals } from '../../core/pageGlobals';
import { RoundOfferSchema, type RoundOffer } from '../../core/schema/FederatedRound';
import { sharedInstallId } from '../../telemetry/installId';
import { liveWorkers } from '../workerPool';
import { FederatedVariant } from './FederatedVariant';
import { takePartInRound } from './takePartInRound';

/** The floor below which a device never takes part, whatever the server asks: a gradient of few examples reveals them. */
const MIN_EXAMPLES = 10;
const CALL_TIMEOUT_MS = 30_000;

/** What this page's federated client has done (`federatedStatus()`). */
export interface FederatedStatus {
  /** Whether the page takes part (telemetry `federated` is on). */
  active: boolean;
  /** Rounds this page answered (an update or an evaluation accepted by the server). */
  rounds: number;
  /** The last round it looked at: its id, kind, and what happened (`sent`, `skipped: <why>`, `refused: <code>`, `deferred: RATE_LIMITED`). */
  lastRound: { roundId: string; kind: string; outcome: string; at: number } | null;
  /** The last thing that went wrong (a server's error code, or a client code), `at` in ms since epoch. */
  lastError: { code: string; message: string; at: number } | null;
}

export interface FederatedClientOptions {
  /** The ondevice server, ending with `/`. */
  server: string;
  siteKey?: string;
  pollIntervalMs: number;
}

/**
 * Takes part in the server's federated rounds in idle time: every `pollIntervalMs`, once the browser reports
 * idle time and no model call is in flight, it asks for a round for each model it keeps at least 10 labelled
 * examples of, and answers the rounds it is offered (takePartInRound). One round at a time; never throws.
 */
export class FederatedClient {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private busy: Promise<void> | undefined;
  private variant: FederatedVariant | undefined;
  /** Rounds answered or skipped: not asked about again. */
  private readonly done = new Set<string>();
  /** A server that answered 429 is not asked again before this (its Retry-After). */
  private pausedUntil = 0;
  readonly status: FederatedStatus = { active: true, rounds: 0, lastRound: null, lastError: null };

  constructor(readonly options: FederatedClientOptions) {}

  start(): void {
    this.schedule(Math.min(this.options.pollIntervalMs, 1000));
  }

  stop(): void {
    this.stopped = true;
    this.status.active = false;
    clearTimeout(this.timer);
    this.variant?.release();
    this.variant = undefined;
  }

  /** One poll now (tests and `model`-less pages); resolves when it is over. */
  pollNow(): Promise<void> {
    this.busy ??= this.poll().finally(() => (this.busy = undefined));
    return this.busy;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void whenIdle(this.options.pollIntervalMs)
        .then(() => (this.stopped ? undefined : this.pollNow()))
        .finally(() => this.schedule(this.options.pollIntervalMs));
    }, delayMs);
  }

  private async poll(): Promise<void> {
    if (Date.now() < this.pausedUntil) return;
    // Never while one of the page's model calls runs: the user's work goes first.
    if (liveWorkers().some((w) => w.pendingCalls > 0 && !this.variant?.owns(w))) return;
    let counts: Map<string, number>;
    try {
      counts = await countLocalExamples();
    } catch (error) {
      return this.fail('NOT_SUPPORTED', `the local example store cannot be read: ${(error as Error).message}`);
    }
    const installId = await sharedInstallId();
    for (const [modelId, count] of counts) {
      if (this.stopped || count < MIN_EXAMPLES) continue;
      try {
        const offer = await this.fetchOffer(modelId, installId);
        if (!offer || this.done.has(offer.roundId)) continue;
        await this.answer(offer, installId);
      } catch (error) {
        const { code, retryAfterMs } = error as { code?: string; retryAfterMs?: number };
        this.fail(code ?? 'NETWORK_ERROR', (error as Error).message);
        if (retryAfterMs !== undefined) {
          this.pausedUntil = Date.now() + retryAfterMs;
          return;
        }
      }
    }
  }

  private url(path: string, query: Record<string, string>): string {
    const url = new URL(path, this.options.server);
    for (const [k, value] of Object.entries(query)) url.searchParams.set(k, value);
    if (this.options.siteKey) url.searchParams.set('key', this.options.siteKey);
    return url.href;
  }

  private async fetchOffer(modelId: string, installId: string): Promise<RoundOffer | undefined> {
    const response = await fetch(this.url(`v1/federated/${encodeURIComponent(modelId)}/round`, { install: installId }), {
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    if (response.status === 204 || response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) throw await refusal(response);
    const parsed = v.safeParse(RoundOfferSchema, await response.json());
    if (!parsed.success)
      throw Object.assign(new Error(`the server's round offer is malformed: ${parsed.issues[0].message}`), { code: 'INVALID_OFFER' });
    return parsed.output;
  }

  private async answer(offer: RoundOffer, installId: string): Promise<void> {
    const note = (text: string) => {
      this.status.lastRound = { roundId: offer.roundId, kind: offer.kind, outcome: text, at: Date.now() };
    };
    const outcome = (text: string) => {
      this.done.add(offer.roundId);
      note(text);
    };
    if (!this.variant || this.variant.sha256 !== offer.model.sha256) {
      this.variant?.release();
      this.variant = undefined;
      this.variant = await FederatedVariant.load({
        ...offer.model,
        url: new URL(offer.model.url, this.options.server).href,
        modelId: offer.modelId,
        version: offer.version,
      });
    }
    const answer = await takePartInRound(offer, this.variant, installId);
    if (answer.kind === 'skip') return outcome(`skipped: ${answer.reason}`);
    const response = await fetch(
      this.url(`v1/federated/${encodeURIComponent(offer.modelId)}/rounds/${encodeURIComponent(offer.roundId)}/updates`, {
        install: installId,
      }),
      {
        method: 'POST',
        // text/plain keeps this a simple request (no CORS preflight), like the telemetry beacons.
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: JSON.stringify(answer.body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      },
    );
    if (response.ok) {
      await response.body?.cancel();
      this.status.rounds++;
      return outcome('sent');
    }
    const error = await refusal(response);
    // Rate-limited: the update was not taken, so the round is asked about again after Retry-After.
    if (error.retryAfterMs !== undefined) note(`deferred: ${error.code}`);
    else outcome(`refused: ${error.code}`);
    throw error;
  }

  private fail(code: string, message: string): void {
    this.status.lastError = { code, message, at: Date.now() };
  }
}

async function refusal(response: Response): Promise<Error & { code: string; retryAfterMs?: number }> {
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAfterMs = response.status === 429 ? (retryAfter > 0 ? retryAfter : 60) * 1000 : undefined;
  let code = `HTTP_${response.status}`;
  let message = response.statusText;
  try {
    const body = (await response.json()) as { code?: unknown; error?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.error === 'string') message = body.error;
  } catch {
    // Not JSON: the status says it.
  }
  return Object.assign(new Error(`the server refused (${response.status} ${code}): ${message}`), { code, retryAfterMs });
}

/** Resolves in idle time (requestIdleCallback where the page has it, bounded by `timeoutMs`). */
function whenIdle(timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const idle = (pageGlobals() as { requestIdleCallback?: (cb: () => void, o: { timeout: number }) => void }).requestIdleCallback;
    if (typeof idle === 'function') idle(() => resolve(), { timeout: timeoutMs });
    else setTimeout(resolve, 0);
  });
}
