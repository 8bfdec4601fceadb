import type { Feeds, HeadRoundRequest, HeadRoundResult, ModelSource } from '../../core/protocol';
import type { TensorSpec } from '../../core/schema/TensorSpec';
import { deserializeError } from '../../core/OnDeviceError';
import { loadOnBackend } from '../loadOnBackend';
import type { WorkerHandle } from '../WorkerHandle';
import { releaseFromWorker } from '../workerPool';

/**
 * A model version's features variant (derived by the release server at publish), loaded in a worker of its
 * own for federated rounds: WASM, not stored for offline use, no telemetry, no warm-up. Verified by its sha256
 * like every model.
 */
export class FederatedVariant {
  private constructor(
    readonly sha256: string,
    readonly inputs: TensorSpec[],
    private readonly handle: WorkerHandle,
    private readonly key: string,
  ) {}

  static async load(source: { url: string; sha256: string; bytes: number; modelId: string; version: string }): Promise<FederatedVariant> {
    const model: ModelSource = {
      url: source.url,
      id: `${source.modelId}.features`,
      version: source.version,
      sha256: source.sha256,
      bytes: source.bytes,
    };
    const loaded = await loadOnBackend(model, 'wasm', { threads: 1, warmup: false, telemetry: false }, { dedicated: true });
    return new FederatedVariant(source.sha256, loaded.info.inputs, loaded.handle, loaded.key);
  }

  /** Whether `handle` is this variant's worker (its calls are the round's own, not the page's). */
  owns(handle: WorkerHandle): boolean {
    return handle === this.handle;
  }

  async headRound(request: HeadRoundRequest): Promise<HeadRoundResult> {
    const result = await this.handle.call((api) => api.headRound(this.key, request));
    if (!result.ok) throw deserializeError(result.error);
    return result.value;
  }

  /** The inputs of a kept example as this model's feeds; undefined when one is missing. */
  feedsOf(inputs: Record<string, { type: string; dims: number[]; data: ArrayLike<number> }>): Feeds | undefined {
    const feeds: Feeds = {};
    for (const spec of this.inputs) {
      const t = inputs[spec.name];
      if (!t) return undefined;
      feeds[spec.name] = { type: t.type, dims: [...t.dims], data: t.data } as Feeds[string];
    }
    return feeds;
  }

  release(): void {
    releaseFromWorker(this.handle, this.key);
  }
}
