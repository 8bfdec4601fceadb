import type { Feeds, TensorArray, TensorData } from '../core/protocol';
import type { ModelEntry } from '../registry/ModelEntry';
import type { EncodedPart, InferResult, ResponsePart } from './inferProtocol';

export interface DynamicBatchingOptions {
  /** Rows (sum of the batch dims) merged into one run at most. */
  maxBatch: number;
  /** How long the first request of a batch waits for company. */
  maxDelayMs: number;
}

type RunFn = (entry: ModelEntry, feeds: Feeds, parts: ResponsePart[]) => Promise<InferResult>;

/** One request's answer from a run (possibly shared with other requests). */
export interface PartResult {
  ms: number;
  part: EncodedPart;
}

interface Item {
  feeds: Feeds;
  part: ResponsePart;
  rows: number;
  resolve: (value: PartResult) => void;
  reject: (error: unknown) => void;
}

interface Group {
  entry: ModelEntry;
  items: Item[];
  rows: number;
  timer: NodeJS.Timeout;
}

/**
 * Merges concurrent requests for a model whose inputs and outputs all lead with the same symbolic batch dim
 * (`['batch', …]`) into one run, up to `maxBatch` rows or `maxDelayMs`; the run's process splits the outputs back
 * into each request's rows and answer. Requests merge only when their other dims and element types match. Other
 * models run one request per run.
 */
export class DynamicBatcher {
  private readonly groups = new Map<string, Group>();
  /** Runs issued and requests served, for tests and benchmarks. */
  readonly stats = { runs: 0, requests: 0 };

  constructor(
    private readonly runOnPool: RunFn,
    private readonly options: DynamicBatchingOptions,
  ) {}

  static batchable(entry: ModelEntry): boolean {
    const first = entry.inputs[0]?.shape[0];
    return (
      typeof first === 'string' &&
      first !== '' &&
      [...entry.inputs, ...entry.outputs].every((spec) => spec.shape[0] === first) &&
      entry.inputs.every((spec) => spec.type !== 'string')
    );
  }

  run(entry: ModelEntry, feeds: Feeds, part: ResponsePart): Promise<PartResult> {
    this.stats.requests++;
    if (!DynamicBatcher.batchable(entry)) {
      this.stats.runs++;
      return this.runOnPool(entry, feeds, [part]).then(({ ms, parts }) => ({ ms, part: parts[0] }));
    }
    const rows = Object.values(feeds)[0].dims[0];
    const key = `${entry.id}@${entry.version}|${entry.inputs.map((s) => `${feeds[s.name].type}[${feeds[s.name].dims.slice(1).join(',')}]`).join(';')}`;
    return new Promise((resolve, reject) => {
      let group = this.groups.get(key);
      if (group && group.rows + rows > this.options.maxBatch) {
        this.flush(key);
        group = undefined;
      }
      if (!group) {
        group = { entry, items: [], rows: 0, timer: setTimeout(() => this.flush(key), this.options.maxDelayMs) };
        this.groups.set(key, group);
      }
      group.items.push({ feeds, part, rows, resolve, reject });
      group.rows += rows;
      if (group.rows >= this.options.maxBatch) this.flush(key);
    });
  }

  private flush(key: string): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    clearTimeout(group.timer);
    this.stats.runs++;
    const { entry, items } = group;
    const merged: Feeds = {};
    if (items.length === 1) Object.assign(merged, items[0].feeds);
    else for (const spec of entry.inputs) merged[spec.name] = concatRows(items.map((item) => item.feeds[spec.name]));
    this.runOnPool(
      entry,
      merged,
      items.map((item) => ({ ...item.part, rows: item.rows })),
    ).then(
      ({ ms, parts }) => items.forEach((item, i) => item.resolve({ ms, part: parts[i] })),
      (error: unknown) => items.forEach((item) => item.reject(error)),
    );
  }
}

function concatRows(tensors: TensorData[]): TensorData {
  const first = tensors[0];
  const length = tensors.reduce((n, t) => n + t.data.length, 0);
  const Ctor = first.data.constructor as new (n: number) => Exclude<TensorArray, string[]>;
  const data = new Ctor(length);
  let offset = 0;
  for (const t of tensors) {
    (data as Float32Array).set(t.data as Float32Array, offset);
    offset += t.data.length;
  }
  return { type: first.type, data, dims: [tensors.reduce((n, t) => n + t.dims[0], 0), ...first.dims.slice(1)] } as TensorData;
}
