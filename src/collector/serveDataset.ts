import type { ServerResponse } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { LIMITS } from '../core/eventSchema';
import type { DatasetCursor, SampleStore } from './SampleStore';
import { HttpError } from '../http/HttpError';
import { drained } from './writeInSlices';

export const DATASET_PATH_PREFIX = '/v1/datasets/';
/** Lines per `?limit=` when none is given, and at most. */
export const DEFAULT_DATASET_LIMIT = 100_000;
export const MAX_DATASET_LIMIT = 1_000_000;
/** Samples read per page: one page (at most ~128 KiB a sample) is all an export holds in memory. */
const PAGE_SIZE = 64;
const MODEL_PATTERN = /^[A-Za-z0-9_.:@/+-]+$/;

/**
 * `GET /v1/datasets/{model}?since=<receivedMs>&limit=<n>&version=<v>`: the model's consented samples as
 * NDJSON, oldest received first, one JSON object per line. Streamed page by page, waiting for the
 * socket to drain (bounded) so a slow reader holds at most one page; throws 400 INVALID_QUERY for a bad query.
 */
export async function serveDataset(samples: SampleStore | undefined, res: ServerResponse, url: URL, method: string): Promise<void> {
  const bad = (error: string, path: string) => new HttpError(400, 'INVALID_QUERY', error, { path });
  let modelId: string;
  try {
    modelId = decodeURIComponent(url.pathname.slice(DATASET_PATH_PREFIX.length));
  } catch {
    throw bad('the model id is not valid percent-encoding', 'model');
  }
  if (modelId === '' || modelId.length > LIMITS.maxModelIdLength || !MODEL_PATTERN.test(modelId)) {
    throw bad(`model must be 1..${LIMITS.maxModelIdLength} characters of A-Z a-z 0-9 _ . : @ / + -`, 'model');
  }
  const since = integerParam(url, 'since', 0, Number.MAX_SAFE_INTEGER, 0);
  if (since === null) throw bad('since must be an integer ≥ 0 (ms since epoch, collector clock)', 'since');
  const limit = integerParam(url, 'limit', 1, MAX_DATASET_LIMIT, DEFAULT_DATASET_LIMIT);
  if (limit === null) throw bad(`limit must be an integer within [1, ${MAX_DATASET_LIMIT}]`, 'limit');
  const version = url.searchParams.get('version') ?? undefined;
  if (version !== undefined && (version === '' || version.length > LIMITS.maxModelVersionLength || !MODEL_PATTERN.test(version))) {
    throw bad(`version must be 1..${LIMITS.maxModelVersionLength} characters of A-Z a-z 0-9 _ . : @ / + -`, 'version');
  }
  if (!samples) {
    throw new HttpError(501, 'NOT_IMPLEMENTED', 'this collector storage keeps no samples');
  }

  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (method === 'HEAD') return void res.end();
  const query = { modelId, sinceMs: since, ...(version !== undefined ? { modelVersion: version } : {}) };
  let after: DatasetCursor | null = null;
  let left = limit;
  while (left > 0) {
    const page = await samples.readDatasetPage(query, after, Math.min(PAGE_SIZE, left));
    if (page.lines.length > 0 && !res.write(`${page.lines.join('\n')}\n`)) await drained(res);
    if (res.destroyed) return;
    left -= page.lines.length;
    if (!page.next) break;
    after = page.next;
    // A macrotask boundary between pages: ingest requests run between them.
    await nextTurn();
  }
  res.end();
}

function integerParam(url: URL, name: string, min: number, max: number, fallback: number): number | null {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  return raw !== '' && Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}
