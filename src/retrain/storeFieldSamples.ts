import type { SampleStore } from '../collector/SampleStore';
import { parseFieldSamples, type FieldSample } from './FieldSample';

const PAGE_SIZE = 256;

/**
 * The field samples of a model straight from the collector's SampleStore (the job inside the server):
 * the dataset export's lines, oldest first, keeping only the most recent `limit` while paging.
 */
export function storeFieldSamples(samples: SampleStore | undefined): (modelId: string, limit: number) => Promise<FieldSample[]> {
  return async (modelId, limit) => {
    if (!samples) throw new Error('this collector storage keeps no samples');
    const out: FieldSample[] = [];
    let after = null;
    do {
      const page = await samples.readDatasetPage({ modelId, sinceMs: 0 }, after, PAGE_SIZE);
      out.push(...parseFieldSamples(page.lines.join('\n'), `samples of ${modelId}`));
      if (out.length > limit) out.splice(0, out.length - limit);
      after = page.next;
    } while (after);
    return out;
  };
}
