/** An event the collector refused, from its answer (`rejected` of a 200, or the path of a 400). */
export interface RejectedEvent {
  id: string;
  code: string;
  path: string;
}

/** An event the collector did not take now (over a per-install limit) and wants again after `retryAfterMs`. */
export interface DeferredEvent {
  id: string;
  code: string;
  retryAfterMs: number;
}

/** What the client does with a batch after the collector answered (or did not). */
export type CollectorAnswer =
  /**
   * The batch was taken: `acknowledged` are stored (or duplicates); `rejected` will never be accepted;
   * `deferred` are not stored and are sent again after their `retryAfterMs` (a 429 that lists them).
   */
  | { kind: 'accepted'; acknowledged: string[]; rejected: RejectedEvent[]; deferred: DeferredEvent[] }
  /** 400 naming one event (a collector that refuses the whole batch for it): drop it, resend the rest. */
  | { kind: 'invalid'; rejected: RejectedEvent[]; code: string; message: string }
  /** 403: the site key or origin is refused. A configuration problem: keep the events, say so. */
  | { kind: 'refused'; code: string; message: string }
  /** Any other 4xx: the body itself is wrong; resending it cannot help. */
  | { kind: 'undeliverable'; code: string; message: string }
  /** 408, 429, 5xx, network errors: try again later (after `retryAfterMs` when the collector said so). */
  | { kind: 'retry'; code: string; message: string; retryAfterMs?: number };

interface ErrorBody {
  code?: unknown;
  error?: unknown;
  path?: unknown;
  rejected?: unknown;
  deferred?: unknown;
}

/** A collector's wish is obeyed within these bounds: never a busy loop, never a wait longer than an hour. */
const MIN_RETRY_AFTER_MS = 1000;
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

/**
 * Read the collector's answer to a batch of `ids`. Handles every collector generation: one that stores
 * the valid events and lists the others in `rejected` (a 200 without `rejected` = all accepted), one that
 * also answers 429 listing the events over a per-install limit in `deferred` (the rest of that batch is
 * stored), and one that refuses the whole batch with 400 and the path of the first invalid event.
 */
export async function readCollectorAnswer(response: Response, ids: readonly string[]): Promise<CollectorAnswer> {
  const body = await readJson(response);
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  const message = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
  const headerRetryAfterMs = retryAfterHeaderMs(response);
  // A 429 with `deferred` stored the rest of the batch: the same answer as a 200, less the deferred ones.
  if (response.ok || (response.status === 429 && Array.isArray(body.deferred))) {
    const sent = new Set(ids);
    const rejected = (Array.isArray(body.rejected) ? body.rejected : [])
      .filter((r): r is RejectedEvent => typeof r?.id === 'string' && sent.has(r.id))
      .map((r) => ({ id: r.id, code: String(r.code ?? 'INVALID_EVENT'), path: String(r.path ?? '$') }));
    const refused = new Set(rejected.map((r) => r.id));
    const deferred = (Array.isArray(body.deferred) ? body.deferred : [])
      .filter((d): d is { id: string; code?: unknown; retryAfterMs?: unknown } => typeof d?.id === 'string' && sent.has(d.id))
      .filter((d) => !refused.has(d.id))
      .map((d) => ({
        id: d.id,
        code: String(d.code ?? 'RATE_LIMITED'),
        retryAfterMs: boundRetryAfter(typeof d.retryAfterMs === 'number' ? d.retryAfterMs : headerRetryAfterMs),
      }));
    const waiting = new Set(deferred.map((d) => d.id));
    return { kind: 'accepted', acknowledged: ids.filter((id) => !refused.has(id) && !waiting.has(id)), rejected, deferred };
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) {
    return headerRetryAfterMs === undefined
      ? { kind: 'retry', code, message }
      : { kind: 'retry', code, message, retryAfterMs: boundRetryAfter(headerRetryAfterMs) };
  }
  if (response.status === 403) return { kind: 'refused', code, message };
  const path = typeof body.path === 'string' ? body.path : '$';
  const index = /^\$\.events\[(\d+)\]/.exec(path);
  const id = index ? ids[Number(index[1])] : undefined;
  if (response.status === 400 && id !== undefined) return { kind: 'invalid', rejected: [{ id, code, path }], code, message };
  return { kind: 'undeliverable', code, message };
}

async function readJson(response: Response): Promise<ErrorBody> {
  try {
    const value: unknown = await response.json();
    return value && typeof value === 'object' ? (value as ErrorBody) : {};
  } catch {
    return {};
  }
}

/** `Retry-After` in seconds (the only form the collector sends), in ms; undefined when absent or not a number. */
function retryAfterHeaderMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined;
  return Number(value) * 1000;
}

function boundRetryAfter(ms: number | undefined): number {
  if (ms === undefined || !Number.isFinite(ms)) return MIN_RETRY_AFTER_MS * 60;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, Math.ceil(ms)));
}
