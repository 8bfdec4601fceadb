import type { Feeds, TensorArray, TensorData } from '../core/protocol';
import type { ModelEntry } from '../registry/ModelEntry';

export interface DynamicBatchingOptions {
  /** Rows (sum of the batch dims) merged into one run at most. */
  maxBatch: number;
  /** How long the first request of a batch waits for company. */
  maxDelayMs: number;
}

type RunFn = (entry: ModelEntry, feeds: Feeds) => Promise<{ outputs: Feeds; ms: number }>;

interface Item {
  feeds: Feeds;
  rows: number;
  resolve: (value: { outputs: Feeds; ms: number }) => void;
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
 * (`['batch', …]`) into one run, up to `maxBatch` rows or `maxDelayMs`, and splits the outputs back. Requests
 * merge only when their other dims and element types match. Other models run one request per run.
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

  run(entry: ModelEntry, feeds: Feeds): Promise<{ outputs: Feeds; ms: number }> {
    this.stats.requests++;
    if (!DynamicBatcher.batchable(entry)) {
      this.stats.runs++;
      return this.runOnPool(entry, feeds);
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
      group.items.push({ feeds, rows, resolve, reject });
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
    if (items.length === 1) {
      const [only] = items;
      return void this.runOnPool(entry, only.feeds).then(only.resolve, only.reject);
    }
    const merged: Feeds = {};
    for (const spec of entry.inputs) merged[spec.name] = concatRows(items.map((item) => item.feeds[spec.name]));
    this.runOnPool(entry, merged).then(
      ({ outputs, ms }) => {
        try {
          const split = splitRows(
            outputs,
            items.map((item) => item.rows),
            group.rows,
          );
          items.forEach((item, i) => item.resolve({ outputs: split[i], ms }));
        } catch (error) {
          items.forEach((item) => item.reject(error));
        }
      },
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

function splitRows(outputs: Feeds, rows: number[], totalRows: number): Feeds[] {
  const parts: Feeds[] = rows.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== totalRows) throw new Error(`${name}: a batched run answered ${tensor.dims[0]} rows for ${totalRows}`);
    const perRow = totalRows === 0 ? 0 : tensor.data.length / totalRows;
    let offset = 0;
    rows.forEach((n, i) => {
      const data = (tensor.data as Float32Array).slice(offset * perRow, (offset + n) * perRow);
      parts[i][name] = { type: tensor.type, data, dims: [n, ...tensor.dims.slice(1)] } as TensorData;
      offset += n;
    });
  }
  return parts;
}
