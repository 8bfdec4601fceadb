import * as v from 'valibot';

/** Stable codes of an event rejected inside an accepted batch. */
export type EventRejectionCode = 'INVALID_EVENT' | 'TIMESTAMP_OUT_OF_RANGE';

/**
 * One event the collector refused inside a batch it accepted, as its answer lists it (`rejected` of a
 * 200): retrying it cannot succeed. The collector writes it; the client reads it with this schema (a
 * code it does not know yet is kept as it comes).
 */
export const RejectedEventSchema = v.object({
  /** The event's id when it is a well-formed id, else null (the path still says which event). */
  id: v.nullable(v.string()),
  code: v.optional(v.string(), 'INVALID_EVENT'),
  /** Where the first problem is, e.g. `$.events[3].ts`. */
  path: v.optional(v.string(), '$'),
});
export type RejectedEvent = v.InferOutput<typeof RejectedEventSchema>;
