import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkBatch, LIMITS, type EventRejectionCode, type TelemetryEvent } from '../core/eventSchema';
import { corsHeaders, PREFLIGHT_HEADERS, type OriginPolicy } from '../http/corsHeaders';
import type { EventWriter } from './EventWriter';
import type { InstallAdmission } from './InstallEventLimiter';
import { HttpError } from '../http/HttpError';
import { readBodyText } from '../http/readBodyText';
import { sendError } from '../http/sendError';
import { sendJson } from '../http/sendJson';
import type { TokenBucketLimiter } from '../http/TokenBucketLimiter';

/** Stable codes of `POST /v1/events` rejections (the `code` field of the JSON error body). */
export type IngestErrorCode =
  | 'METHOD_NOT_ALLOWED'
  | 'RATE_LIMITED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BODY_TOO_LARGE'
  | 'BODY_TIMEOUT'
  | 'BODY_ABORTED'
  | 'INVALID_UTF8'
  | 'INVALID_JSON'
  | 'INVALID_BATCH'
  | 'SITE_KEY_MISMATCH'
  | 'UNKNOWN_SITE_KEY'
  | 'STORAGE_FAILED';

export interface IngestContext {
  store: EventWriter;
  limiter: TokenBucketLimiter;
  origins: OriginPolicy;
  siteKeys: ReadonlySet<string>;
  trustProxy: boolean;
  bodyTimeoutMs: number;
  now: () => number;
  onResponse: (status: number, code: IngestErrorCode | 'OK') => void;
  onStored: (stored: readonly TelemetryEvent[], duplicates: number) => void;
  /** Per-install limits, checked once the batch is valid and before it is stored: what to store now, what to defer. */
  admitBatch?: (events: readonly TelemetryEvent[], siteKey: string) => InstallAdmission;
}

/**
 * The answer of `POST /v1/events` to a batch: 200, or 429 (with `error`, `code: 'RATE_LIMITED'` and
 * `Retry-After`) when `deferred` is not empty. Either way `accepted` events are committed.
 */
export interface IngestAck {
  /** Valid events of the batch, now committed (new ones plus duplicates): the client may forget them. */
  accepted: number;
  /** Of `accepted`, how many were new. */
  stored: number;
  /** Of `accepted`, how many were already stored (or repeated within the batch). */
  duplicates: number;
  /** Invalid events, never stored; retrying them cannot succeed. `id` is null when the id itself is bad. */
  rejected: { id: string | null; code: EventRejectionCode; path: string }[];
  /**
   * Valid events over a per-install limit, not stored: send them again after `retryAfterMs`. The answer
   * is then a 429, so a client that does not know this field keeps the whole batch and sends it again
   * later (what was stored comes back as duplicates): nothing is acknowledged that was not stored.
   */
  deferred: { id: string; code: 'RATE_LIMITED'; retryAfterMs: number }[];
}

/**
 * `POST /v1/events` (and its CORS preflight). Responds 200 only after the valid events of the batch
 * are committed, listing each invalid event with a code; a body that is not a batch stores nothing.
 * Events over a per-install limit are deferred: the rest is committed and the answer is a 429 listing them.
 */
export async function handleIngest(ctx: IngestContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const cors = corsHeaders(req.headers.origin, ctx.origins);
  try {
    await ingest(ctx, req, res, url, cors);
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    ctx.onResponse(error.status, error.code as IngestErrorCode);
    sendError(res, error, { headers: cors ?? {} });
  }
}

async function ingest(
  ctx: IngestContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  cors: Record<string, string> | null,
): Promise<void> {
  const refuse = (status: number, code: IngestErrorCode, error: string, path = '$', headers: Record<string, string> = {}) =>
    new HttpError(status, code, error, { path, headers });

  if (req.method === 'OPTIONS') {
    if (!cors) throw refuse(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed');
    res.writeHead(204, { ...cors, ...PREFLIGHT_HEADERS, 'content-length': '0' });
    res.end();
    return;
  }
  if (req.method !== 'POST') throw refuse(405, 'METHOD_NOT_ALLOWED', 'use POST', '$', { allow: 'POST, OPTIONS' });

  const early = checkBeforeBody(ctx, req, url, cors !== null);
  // Read (bounded) even a request we already know we reject: answering while the client is still
  // sending makes the kernel reset the connection and the client never sees the status.
  const body = await readBodyText(req, { maxBytes: LIMITS.maxBodyBytes, timeoutMs: ctx.bodyTimeoutMs }).catch((e: unknown) => {
    throw early ?? e;
  });
  if (early) throw early;

  let parsed: unknown;
  try {
    // V8's JSON.parse is iterative, so deep nesting cannot overflow the stack; the 256 KiB cap bounds
    // the work. Numbers beyond float range parse to Infinity and fail validation.
    parsed = JSON.parse(body);
  } catch {
    throw refuse(400, 'INVALID_JSON', 'body is not valid JSON');
  }
  const receivedAtMs = ctx.now();
  const batch = checkBatch(parsed, { receivedAtMs });
  if (!batch.ok) throw refuse(400, 'INVALID_BATCH', batch.error, batch.path);

  const urlKey = url.searchParams.get('key');
  if (urlKey !== null && batch.siteKey !== undefined && urlKey !== batch.siteKey) {
    throw refuse(400, 'SITE_KEY_MISMATCH', 'site key in URL and body differ', '$.siteKey');
  }
  const siteKey = batch.siteKey ?? urlKey;
  if (siteKey === null) throw refuse(403, 'UNKNOWN_SITE_KEY', 'site key required (body siteKey or ?key=)', '$.siteKey');
  if (!ctx.siteKeys.has(siteKey)) throw refuse(403, 'UNKNOWN_SITE_KEY', 'unknown site key', '$.siteKey');

  const { admitted, deferred, reason } = ctx.admitBatch?.(batch.events, siteKey) ?? { admitted: batch.events, deferred: [], reason: null };

  let result: { stored: readonly TelemetryEvent[]; duplicates: number } = { stored: [], duplicates: 0 };
  try {
    if (admitted.length > 0) result = await ctx.store.insertBatch(admitted, { siteKey, receivedAtMs });
  } catch (e) {
    // The transaction rolled back: nothing was stored, so the client may safely retry.
    throw refuse(503, 'STORAGE_FAILED', `storage failed: ${(e as Error).message}`, '$', { 'retry-after': '5' });
  }
  ctx.onStored(result.stored, result.duplicates);
  const ack: IngestAck = {
    accepted: admitted.length,
    stored: result.stored.length,
    duplicates: result.duplicates,
    rejected: batch.rejected.map(({ id, code, path }) => ({ id, code, path })),
    deferred: deferred.map(({ event, retryAfterMs }) => ({ id: event.id, code: 'RATE_LIMITED', retryAfterMs })),
  };
  if (deferred.length === 0) {
    ctx.onResponse(200, 'OK');
    return sendJson(res, 200, ack, cors ?? {});
  }
  ctx.onResponse(429, 'RATE_LIMITED');
  const error = `${deferred.length} event(s) deferred: ${reason ?? 'over a per-install limit'}; the rest of the batch is stored`;
  // Retry-After says when the first deferred event may come back.
  const retryAfterSeconds = Math.max(1, Math.ceil(Math.min(...deferred.map((d) => d.retryAfterMs)) / 1000));
  sendJson(res, 429, { error, code: 'RATE_LIMITED', path: '$', ...ack }, { ...(cors ?? {}), 'retry-after': String(retryAfterSeconds) });
}

/** The refusal a request earns before its body is read (rate, origin, media type, a URL site key), or null. */
function checkBeforeBody(ctx: IngestContext, req: IncomingMessage, url: URL, originAllowed: boolean): HttpError | null {
  const limited = ctx.limiter.take(clientAddress(req, ctx.trustProxy), ctx.now());
  if (!limited.ok) {
    return new HttpError(429, 'RATE_LIMITED', 'too many requests', { headers: { 'retry-after': String(limited.retryAfterSeconds) } });
  }
  if (!originAllowed) return new HttpError(403, 'ORIGIN_NOT_ALLOWED', 'origin not allowed');
  const mediaType = checkMediaType(req);
  if (mediaType) return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', mediaType);
  const urlKey = url.searchParams.get('key');
  if (urlKey !== null && !ctx.siteKeys.has(urlKey))
    return new HttpError(403, 'UNKNOWN_SITE_KEY', 'unknown site key', { path: '$.siteKey' });
  return null;
}

/** null when acceptable, else the reason. */
function checkMediaType(req: IncomingMessage): string | null {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return `content-encoding ${encoding} not supported`;
  const type = req.headers['content-type'];
  if (!type) return 'content-type required: application/json or text/plain';
  const [essence, ...params] = type.split(';').map((s) => s.trim().toLowerCase());
  // text/plain is what sendBeacon and no-preflight fetch send (a CORS-safelisted type).
  if (essence !== 'application/json' && essence !== 'text/plain') return `content-type ${essence} not supported`;
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return `charset ${charset} not supported`;
  return null;
}

function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
