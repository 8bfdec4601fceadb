import { OnDeviceError } from '../core/OnDeviceError';

export interface BatchProgress {
  /** Items finished so far (succeeded or failed). */
  done: number;
  /** Of those, how many failed. */
  failed: number;
  total: number;
}

export interface RunBatchOptions {
  /**
   * Items run at once. On the device each runs in its own worker holding its own session, and the
   * default (also the most) is as many as the cores allow at the model's thread count (one on WebGPU);
   * on the server the default is 4.
   */
  concurrency?: number;
  /** Called after every finished item. */
  onProgress?: (progress: BatchProgress) => void;
  /** Stops the batch: items not finished yet come back as `{ ok: false, error }` with ABORTED. */
  signal?: AbortSignal;
  /** Transfer each item's input buffers instead of copying them (default true, as in `run`). */
  transfer?: boolean;
}

/** One item's outcome: its outputs, or the OnDeviceError it failed with. */
export type BatchResult<Out> = { ok: true; outputs: Out } | { ok: false; error: OnDeviceError };

/**
 * Run `items` on `lanes` parallel lanes, each taking the next item when it is free, and answer in input
 * order. A failing item is recorded and the lane goes on: one bad item never aborts the rest.
 */
export async function runBatch<T, R>(
  items: readonly T[],
  lanes: number,
  runItem: (item: T, lane: number) => Promise<R>,
  options: Pick<RunBatchOptions, 'onProgress' | 'signal'> = {},
): Promise<BatchResult<R>[]> {
  const results: BatchResult<R>[] = new Array<BatchResult<R>>(items.length);
  let next = 0;
  let done = 0;
  let failed = 0;
  const finish = (index: number, result: BatchResult<R>) => {
    results[index] = result;
    done++;
    if (!result.ok) failed++;
    try {
      options.onProgress?.({ done, failed, total: items.length });
    } catch {
      // A progress callback that throws must not lose the batch's results.
    }
  };
  const lane = async (laneIndex: number) => {
    while (next < items.length) {
      const index = next++;
      if (options.signal?.aborted) {
        finish(index, { ok: false, error: new OnDeviceError('ABORTED', `The batch was aborted before item ${index} ran`, { index }) });
        continue;
      }
      try {
        finish(index, { ok: true, outputs: await runItem(items[index], laneIndex) });
      } catch (error) {
        const e =
          error instanceof OnDeviceError ? error : new OnDeviceError('INFERENCE_FAILED', String((error as Error)?.message ?? error));
        finish(index, { ok: false, error: e });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, items.length)) }, (_, i) => lane(i)));
  return results;
}
