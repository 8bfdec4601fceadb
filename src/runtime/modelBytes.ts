import { loadThroughStore, type StoreLoadResult } from '../cache/loadThroughStore';
import { fetchModel } from '../core/fetchModel';
import type { LoadRequest, Progress } from '../core/protocol';

/**
 * Where a session's bytes come from: the offline model store (src/cache) when storing is enabled,
 * else the network. Both verify sha256 before anything is returned.
 */
export async function modelBytes(request: LoadRequest, onProgress: (p: Progress) => void, signal?: AbortSignal): Promise<StoreLoadResult> {
  if (!request.store?.enabled) return fetchModel(request.source, { onProgress, signal, stallTimeoutMs: request.stallTimeoutMs });
  return loadThroughStore(request.source, {
    budgetBytes: request.store.budgetBytes,
    onProgress,
    signal,
    stallTimeoutMs: request.stallTimeoutMs,
  });
}
