import * as v from 'valibot';
import { issuePath } from './issuePath';
import { LIMITS } from './limits';
import { rejectHostileJson } from './rejectHostileJson';
import { identifier } from './safeStrings';
import { TelemetryEventSchema, type TelemetryEvent } from './TelemetryEvent';
import type { EventRejectionCode, RejectedEvent } from './RejectedEvent';

/** The body of `POST /v1/events` around its events; `siteKey` may instead travel as `?key=` in the URL. */
const batchOf = <const TEvent extends v.GenericSchema>(event: TEvent, hostileJsonCheck: ReturnType<typeof rejectHostileJson>) =>
  v.pipe(
    v.unknown(),
    hostileJsonCheck,
    v.strictObject(
      {
        siteKey: v.exactOptional(identifier(LIMITS.maxSiteKeyLength)),
        events: v.pipe(
          v.array(event, 'must be an array'),
          v.minLength(1, 'must not be empty'),
          v.maxLength(LIMITS.maxEventsPerBatch, `at most ${LIMITS.maxEventsPerBatch} events per batch`),
        ),
      },
      'must be an object',
    ),
  );

/** A whole batch, every event valid. */
export const EventBatchSchema = batchOf(TelemetryEventSchema, rejectHostileJson(LIMITS.maxDepth));
export type EventBatch = v.InferOutput<typeof EventBatchSchema>;

/** The same envelope with its events not yet looked at: the collector checks them one by one. */
const BatchEnvelopeSchema = batchOf(v.unknown(), rejectHostileJson(LIMITS.maxDepth, 0));

/** One event on its own (a batch puts it two levels down, so it may nest two levels less). */
const CheckedEventSchema = v.pipe(v.unknown(), rejectHostileJson(LIMITS.maxDepth - 2), TelemetryEventSchema);

/** A rejected event as checkBatch finds it: its answer (RejectedEvent) plus what is wrong, in words. */
export type BatchRejection = RejectedEvent & { code: EventRejectionCode; error: string };

export type BatchCheck =
  | { ok: true; siteKey: string | undefined; events: TelemetryEvent[]; rejected: BatchRejection[] }
  | { ok: false; error: string; path: string };

export type BatchValidation =
  { ok: true; siteKey: string | undefined; events: TelemetryEvent[] } | { ok: false; error: string; path: string };

export interface CheckOptions {
  /** The collector's receive time: client `ts` must lie within [receivedAtMs − 7 days, receivedAtMs + 5 min]. */
  receivedAtMs?: number;
}

const RAW_ID = identifier(LIMITS.maxIdLength);

/**
 * Check a parsed body event by event. A body that is not a batch at all is `ok: false`; otherwise
 * the valid events come back in `events` and each invalid one in `rejected` with a stable code.
 * Returns a value, never throws.
 *
 * @example
 * const batch = checkBatch(JSON.parse(body), { receivedAtMs: Date.now() });
 * if (!batch.ok) respond(400, { error: batch.error, path: batch.path });
 */
export function checkBatch(value: unknown, options: CheckOptions = {}): BatchCheck {
  try {
    const envelope = v.safeParse(BatchEnvelopeSchema, value, { abortEarly: true });
    if (!envelope.success) return { ok: false, error: envelope.issues[0].message, path: issuePath(envelope.issues[0]) };
    const events: TelemetryEvent[] = [];
    const rejected: BatchRejection[] = [];
    envelope.output.events.forEach((raw, i) => {
      const at = `$.events[${i}]`;
      const rawId = (raw as { id?: unknown } | null)?.id;
      const id = v.is(RAW_ID, rawId) ? rawId : null;
      const result = v.safeParse(CheckedEventSchema, raw, { abortEarly: true });
      if (!result.success) {
        rejected.push({ id, code: 'INVALID_EVENT', path: issuePath(result.issues[0], at), error: result.issues[0].message });
      } else if (options.receivedAtMs !== undefined && !withinClockWindow(result.output.ts, options.receivedAtMs)) {
        rejected.push({ id, code: 'TIMESTAMP_OUT_OF_RANGE', path: `${at}.ts`, error: clockWindowMessage(options.receivedAtMs) });
      } else {
        events.push(result.output);
      }
    });
    return { ok: true, siteKey: envelope.output.siteKey, events, rejected };
  } catch {
    // A RangeError from a pathological value must not escape as a 500.
    return { ok: false, error: 'invalid batch', path: '$' };
  }
}

/**
 * Strictly validate a parsed batch: known keys only, exact types, enums, lengths and ranges, every
 * event valid. Returns a value, never throws.
 *
 * @example
 * const result = validateBatch(JSON.parse(body));
 * if (!result.ok) respond(400, { error: result.error, path: result.path });
 */
export function validateBatch(value: unknown, options: CheckOptions = {}): BatchValidation {
  const batch = checkBatch(value, options);
  if (!batch.ok) return batch;
  const [first] = batch.rejected;
  if (first) return { ok: false, error: first.error, path: first.path };
  return { ok: true, siteKey: batch.siteKey, events: batch.events };
}

/** Client time is informational: it is trusted only within [receive − 7 days, receive + 5 min]. */
export function withinClockWindow(tsMs: number, receivedAtMs: number): boolean {
  return tsMs >= receivedAtMs - LIMITS.maxEventAgeMs && tsMs <= receivedAtMs + LIMITS.maxClockSkewMs;
}

function clockWindowMessage(receivedAtMs: number): string {
  const from = new Date(receivedAtMs - LIMITS.maxEventAgeMs).toISOString();
  const to = new Date(receivedAtMs + LIMITS.maxClockSkewMs).toISOString();
  return `ts must be within [${from}, ${to}] (receive time − 7 days, + 5 minutes)`;
}
