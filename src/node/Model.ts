import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds } from '../core/protocol';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { validateFeeds } from '../core/validateFeeds';
import { fromOrtOutputs } from './fromOrtOutputs';
import type { Ort } from './loadOrt';
import { toOrtFeeds } from './toOrtFeeds';

type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

export interface NodeLoadInfo {
  bytes: number;
  threads: number;
  /** Milliseconds: read or fetch (with sha256 check), session creation. */
  timings: { fetchMs: number; sessionMs: number };
}

export interface NodeRunOptions {
  /** Rejects a call that has not started yet with ABORTED; a run inside onnxruntime finishes and its result is dropped. */
  signal?: AbortSignal;
}

/**
 * A model loaded in onnxruntime-node: the same `run`, `inputs`, `outputs`, `version`, `dispose` and error
 * codes as the browser `Model`, with feed validation shared with it (`src/core/validateFeeds.ts`).
 *
 * @example
 * const model = await loadModel('tiny-mlp')
 * const { probs } = await model.run({ x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } })
 */
export class Model {
  readonly backend = 'cpu' as const;
  private disposed = false;
  private readonly running = new Set<Promise<unknown>>();

  /** @internal */
  constructor(
    private readonly ort: Ort,
    private readonly session: Session,
    readonly id: string,
    readonly version: string | undefined,
    readonly inputs: TensorSpec[],
    readonly outputs: TensorSpec[],
    readonly info: NodeLoadInfo,
  ) {}

  /** Run the model. Feeds are `{ type, data, dims }` per input; results come back the same way. */
  async run(feeds: Feeds, options: NodeRunOptions = {}): Promise<Feeds> {
    if (this.disposed) throw new OnDeviceError('DISPOSED', `${this.id} was disposed; load it again to run it`);
    validateFeeds(feeds, this.inputs, this.id);
    if (options.signal?.aborted) throw new OnDeviceError('ABORTED', 'The run was aborted before it started');
    const call = this.session.run(toOrtFeeds(this.ort, feeds));
    this.running.add(call);
    try {
      const results = await call;
      if (options.signal?.aborted) throw new OnDeviceError('ABORTED', 'The run was aborted');
      return fromOrtOutputs(results as never);
    } catch (error) {
      if (error instanceof OnDeviceError) throw error;
      const message = (error as Error)?.message ?? String(error);
      const code = /bad_alloc|out of memory/i.test(message) ? 'OUT_OF_MEMORY' : 'INFERENCE_FAILED';
      throw new OnDeviceError(code, `${this.id}: onnxruntime failed: ${message}`, { modelId: this.id }, { cause: error });
    } finally {
      this.running.delete(call);
    }
  }

  /** Free the session once the runs in flight have finished. Later calls reject with DISPOSED. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Releasing a session under a running call would free memory the call still uses.
    void Promise.allSettled([...this.running]).then(() => this.session.release().catch(() => undefined));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }
}
