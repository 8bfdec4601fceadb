import * as v from 'valibot';
import { RejectedEventSchema, type RejectedEvent } from '../core/schema/RejectedEvent';

/** An event of ours the collector refused, from its answer (`rejected` of a 200, or the path of a 400). */
export type RefusedEvent = RejectedEvent & { id: string };

/** What the client does with a batch after the collector answered (or did not). */
export type CollectorAnswer =
  /** 2xx: `acknowledged` are stored (or duplicates); `rejected` will never be accepted. */
  | { kind: 'accepted'; acknowledged: string[]; rejected: RefusedEvent[] }
  /** 400 naming one event (a collector that refuses the whole batch for it): drop it, resend the rest. */
  | { kind: 'invalid'; rejected: RefusedEvent[]; code: string; message: string }
  /** 403: the site key or origin is refused. A configuration problem: keep the events, say so. */
  | { kind: 'refused'; code: string; message: string }
  /** Any other 4xx: the body itself is wrong; resending it cannot help. */
  | { kind: 'undeliverable'; code: string; message: string }
  /** 408, 429, 5xx, network errors: try again later. */
  | { kind: 'retry'; code: string; message: string };

interface ErrorBody {
  code?: unknown;
  error?: unknown;
  path?: unknown;
  rejected?: unknown;
}

/**
 * Read the collector's answer to a batch of `ids`. Handles both collector generations: one that stores
 * the valid events and lists the others in `rejected` (a 200 without `rejected` = all accepted), and one
 * that refuses the whole batch with 400 and the path of the first invalid event.
 */
export async function readCollectorAnswer(response: Response, ids: readonly string[]): Promise<CollectorAnswer> {
  const body = await readJson(response);
  const code = typeof body.code === 'string' ? body.code : `HTTP_${response.status}`;
  const message = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
  if (response.ok) {
    const sent = new Set(ids);
    const rejected = (Array.isArray(body.rejected) ? body.rejected : []).flatMap((r: unknown): RefusedEvent[] => {
      const parsed = v.safeParse(RejectedEventSchema, r);
      return parsed.success && parsed.output.id !== null && sent.has(parsed.output.id) ? [{ ...parsed.output, id: parsed.output.id }] : [];
    });
    const refused = new Set(rejected.map((r) => r.id));
    return { kind: 'accepted', acknowledged: ids.filter((id) => !refused.has(id)), rejected };
  }
  if (response.status === 408 || response.status === 429 || response.status >= 500) return { kind: 'retry', code, message };
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
