import { fetchModel, type FetchedModel } from './fetchModel';
import type { LoadRequest, Progress } from './protocol';

/**
 * Where a session's bytes come from. The network path verifies sha256 before anything is returned;
 * the offline model store plugs in here.
 */
export async function modelBytes(request: LoadRequest, onProgress: (p: Progress) => void): Promise<FetchedModel> {
  return fetchModel(request.source, onProgress);
}
