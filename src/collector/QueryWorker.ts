import * as Comlink from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Worker } from 'node:worker_threads';
import type { QueryApi, QueryWorkerData } from './queryProtocol';
import type { ReadQueries } from './ReadQueries';

export interface QueryWorkerOptions {
  dbPath: string;
  /** Bound on one query; a timed-out query rejects (the worker may still finish it). Default 30 s. */
  timeoutMs?: number;
  checkpointIntervalMs?: number;
  restartWalAfterPages?: number;
  onError?: (error: Error) => void;
}

interface Running {
  worker: Worker;
  remote: Comlink.Remote<QueryApi>;
  /** Rejects when the worker errors or exits: comlink alone would leave its calls pending forever. */
  gone: Promise<never>;
}

/**
 * Runs the read side (createQueryApi) on a worker thread with its own SQLite connection — WAL lets it
 * read while the main thread writes — through comlink's Node adapter. A crashed worker is replaced on
 * the next query; every call is bounded by `timeoutMs`.
 *
 * @example
 * const queries = new QueryWorker({ dbPath: 'data/collector.sqlite' });
 * const summary = await queries.summary(3_600_000, Date.now());
 */
export class QueryWorker implements ReadQueries {
  private running: Running | undefined;
  private closed = false;

  constructor(private readonly options: QueryWorkerOptions) {}

  measure: ReadQueries['measure'] = (rules, nowMs, options) => this.call('measure', (r) => r.measure([...rules], nowMs, options));
  summary: ReadQueries['summary'] = (windowMs, nowMs) => this.call('summary', (r) => r.summary(windowMs, nowMs));
  dashboard: ReadQueries['dashboard'] = (rules, windowMs, nowMs) => this.call('dashboard', (r) => r.dashboard([...rules], windowMs, nowMs));

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    this.running = undefined;
    if (!running) return;
    running.remote[Comlink.releaseProxy]();
    await running.worker.terminate();
  }

  private async call<T>(name: string, run: (remote: Comlink.Remote<QueryApi>) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error('query worker closed');
    const { remote, gone } = this.ensureWorker();
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`query ${name} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([run(remote), gone, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private ensureWorker(): Running {
    if (this.running) return this.running;
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
    // The worker must not keep the process alive on its own; pending calls hold timers that do.
    worker.unref();
    const gone = new Promise<never>((_, reject) => {
      worker.once('error', (error) => {
        this.options.onError?.(error);
        reject(error);
      });
      worker.once('exit', (code) => reject(new Error(`query worker exited (code ${code})`)));
    });
    gone.catch(() => {
      if (this.running?.worker === worker) this.running = undefined;
    });
    const running: Running = { worker, remote: Comlink.wrap<QueryApi>(nodeEndpoint(worker)), gone };
    this.running = running;
    return running;
  }
}
