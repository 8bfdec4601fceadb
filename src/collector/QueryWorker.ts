import { Worker } from 'node:worker_threads';
import type { AlertRule } from './alertRules';
import type { QueryRequest, QueryResponse, QueryResults, QueryWorkerData } from './queryProtocol';
import type { ReadQueries } from './ReadQueries';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void; timer: NodeJS.Timeout };
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface QueryWorkerOptions {
  dbPath: string;
  /** Bound on one query; a timed-out query rejects (the worker may still finish it). Default 30 s. */
  timeoutMs?: number;
  checkpointIntervalMs?: number;
  restartWalAfterPages?: number;
  onError?: (error: Error) => void;
}

/**
 * Runs the read side on a worker thread with its own SQLite connection (WAL lets it read while the
 * main thread writes). A crashed worker is replaced on the next query.
 *
 * @example
 * const queries = new QueryWorker({ dbPath: 'data/collector.sqlite' });
 * const summary = await queries.summary(3_600_000, Date.now());
 */
export class QueryWorker implements ReadQueries {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: QueryWorkerOptions) {}

  measure(rules: readonly AlertRule[], nowMs: number) {
    return this.request<'measure'>({ type: 'measure', rules: [...rules], nowMs });
  }

  summary(windowMs: number, nowMs: number) {
    return this.request<'summary'>({ type: 'summary', windowMs, nowMs });
  }

  dashboard(rules: readonly AlertRule[], windowMs: number, nowMs: number) {
    return this.request<'dashboard'>({ type: 'dashboard', rules: [...rules], windowMs, nowMs });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('query worker closed'));
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }

  private request<K extends keyof QueryResults>(message: DistributiveOmit<QueryRequest, 'id'>): Promise<QueryResults[K]> {
    if (this.closed) return Promise.reject(new Error('query worker closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<QueryResults[K]>((resolve, reject) => {
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`query ${message.type} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      worker.postMessage({ ...message, id } as QueryRequest);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // Same extension as this module: .ts under tsx, .js once compiled.
    const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const data: QueryWorkerData = {
      entry: new URL(`./queryWorkerEntry${extension}`, import.meta.url).href,
      dbPath: this.options.dbPath,
      checkpointIntervalMs: this.options.checkpointIntervalMs ?? 1000,
      // 4096 pages ≈ 16 MiB: a restart every few seconds at full bench load, never under demo traffic.
      restartWalAfterPages: this.options.restartWalAfterPages ?? 4096,
    };
    const worker = new Worker(new URL('./queryWorkerBoot.mjs', import.meta.url), { workerData: data });
    // The worker must not keep the process alive on its own; pending queries hold timers that do.
    worker.unref();
    worker.on('message', (response: QueryResponse) => {
      const p = this.pending.get(response.id);
      if (!p) return;
      this.pending.delete(response.id);
      clearTimeout(p.timer);
      if (response.ok) p.resolve(response.value);
      else p.reject(new Error(response.error));
    });
    worker.on('error', (error) => {
      this.options.onError?.(error);
      this.failAll(error);
    });
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('query worker exited'));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
  }
}
