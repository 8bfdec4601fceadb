import { loadThroughStore, type StoreLoadResult } from '../cache/loadThroughStore';
import { fetchModelSet } from '../core/fetchModelSet';
import type { ModelSetPlan } from '../core/onnx/planDataFiles';
import type { LoadRequest, Progress } from '../core/protocol';

/**
 * Where a session's files come from: the offline model store (src/cache) when storing is enabled, else the
 * network. Both verify every file's sha256 before anything is returned; `checkSet` sees what the ONNX file names
 * before any data file is fetched.
 */
export async function modelBytes(
  request: LoadRequest,
  onProgress: (p: Progress) => void,
  signal: AbortSignal | undefined,
  checkSet: (plan: ModelSetPlan) => void,
): Promise<StoreLoadResult> {
  const options = { onProgress, signal, stallTimeoutMs: request.stallTimeoutMs, checkSet };
  if (!request.store?.enabled) return fetchModelSet(request.source, options);
  return loadThroughStore(request.source, { ...options, budgetBytes: request.store.budgetBytes });
}
