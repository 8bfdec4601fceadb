import { randomUUID } from 'node:crypto';
import type { SandboxSettings } from '../sandbox';
import { HttpError } from '../http/HttpError';
import type { Job, JobStore, JobTrigger } from './JobStore';
import type { RetrainConfig } from './retrainConfig';
import { runRetrainJob, type JobOutcome, type RetrainPorts } from './runRetrainJob';
import { ownValue } from '../core/ownValue';

export interface RetrainJobsOptions {
  config: RetrainConfig;
  store: JobStore;
  ports: RetrainPorts;
  /** A job failed (an alert is raised), or a later job of the model did not fail (the alert resolves). */
  onFailed?: (job: Job) => void;
  onRecovered?: (job: Job) => void;
  /** Lock lease: renewed every third of it while a job runs; another process takes over after it lapses. */
  lockLeaseMs?: number;
  /** Working directory of trainer commands. */
  cwd?: string;
  /** Limits of the sandbox processes that evaluate candidates. Default DEFAULT_SANDBOX_SETTINGS. */
  sandbox?: SandboxSettings;
  /** Bytes of log kept per job (the tail). Default 16 KiB. */
  maxLogBytes?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * Retraining jobs, one at a time across every process on the database (JobStore's lock): started by
 * hand or by a trigger, run in the background, recorded with state, figures and log tail.
 */
export class RetrainJobs {
  private readonly holder = `${process.pid}-${randomUUID()}`;
  private readonly now: () => number;
  private readonly leaseMs: number;
  private running: Promise<Job> | undefined;
  private readonly lastStartMs = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly stop = new AbortController();

  constructor(private readonly options: RetrainJobsOptions) {
    this.now = options.now ?? Date.now;
    this.leaseMs = options.lockLeaseMs ?? 60_000;
  }

  get config(): RetrainConfig {
    return this.options.config;
  }

  /**
   * Start a job now; resolves with it (state `running`) once it holds the lock, and `finished` with its
   * end. Refused with an HttpError (answered as is over /v1/jobs) while any job runs, here or in another
   * process (409 `JOB_RUNNING`), or for a model without a config (404 `UNKNOWN_MODEL`).
   */
  async start(modelId: string, trigger: JobTrigger): Promise<{ job: Job; finished: Promise<Job> }> {
    const config = ownValue(this.options.config.models, modelId);
    if (!config) throw new HttpError(404, 'UNKNOWN_MODEL', `no retraining configured for ${JSON.stringify(modelId)} (config/retrain.json)`);
    if (this.running || this.closed || !(await this.options.store.acquireLock(this.holder, this.now(), this.leaseMs)))
      throw new HttpError(409, 'JOB_RUNNING', 'a retraining job is already running; one at a time');
    const startedMs = this.now();
    this.lastStartMs.set(modelId, startedMs);
    const id = randomUUID();
    let job: Job;
    try {
      await this.options.store.create({ id, modelId, trigger, createdMs: startedMs });
      job = await this.options.store.update(id, { state: 'running', startedMs });
    } catch (e) {
      await this.options.store.releaseLock(this.holder);
      throw e;
    }
    this.log(`retrain: job ${id} (${modelId}, ${trigger}) started`);
    const finished = this.run(job, config);
    this.running = finished;
    void finished.finally(() => {
      this.running = undefined;
    });
    return { job, finished };
  }

  /** Start a job for a trigger unless one runs or the model's cooldown has not passed; never throws. */
  trigger(modelId: string, trigger: Exclude<JobTrigger, 'manual'>): void {
    const config = ownValue(this.options.config.models, modelId);
    if (!config || this.closed) return;
    const last = this.lastStartMs.get(modelId);
    if (last !== undefined && this.now() - last < config.cooldownMs) {
      this.log(`retrain: ${trigger} for ${modelId} ignored: cooldown (${config.cooldownMs} ms) since the last job`);
      return;
    }
    this.start(modelId, trigger).catch((e: Error) => this.log(`retrain: ${trigger} for ${modelId} not started: ${e.message}`));
  }

  /**
   * Schedule triggers (`triggers.intervalMs`) for every configured model; a tick fires only while
   * `isLeader()` (several instances on one database: the collector's leader lease).
   */
  startSchedules(isLeader: () => boolean = () => true): void {
    for (const [modelId, c] of Object.entries(this.options.config.models)) {
      if (c.triggers.intervalMs <= 0) continue;
      const timer = setInterval(() => isLeader() && this.trigger(modelId, 'schedule'), c.triggers.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** The job in progress in this process, if any. */
  current(): Promise<Job> | undefined {
    return this.running;
  }

  /** Stop: no new jobs, the running one's trainer is killed and the job recorded as failed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.stop.abort();
    await this.running?.catch(() => {});
  }

  private async run(job: Job, config: RetrainConfig['models'][string]): Promise<Job> {
    const maxLog = this.options.maxLogBytes ?? 16 * 1024;
    let logTail = '';
    const log = (line: string) => {
      logTail += `${new Date(this.now()).toISOString()} ${line.slice(0, 2000)}\n`;
      if (logTail.length > maxLog) logTail = logTail.slice(logTail.length - maxLog);
    };
    const renew = setInterval(
      () =>
        void this.options.store.renewLock(this.holder, this.now()).then(
          (held) => held || log('lock lease lost (the database was unreachable for longer than the lease)'),
          (e: Error) => log(`lock renewal failed: ${e.message}`),
        ),
      Math.max(1000, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    let outcome: JobOutcome;
    try {
      outcome = await runRetrainJob({
        jobId: job.id,
        modelId: job.modelId,
        config,
        ports: this.options.ports,
        log,
        cwd: this.options.cwd,
        signal: this.stop.signal,
        sandbox: this.options.sandbox,
      });
    } catch (e) {
      outcome = { state: 'failed', reason: (e as Error).message, baseVersion: null, resultVersion: null, metrics: null, dataSummary: null };
    } finally {
      clearInterval(renew);
    }
    const finishedMs = this.now();
    let done: Job;
    try {
      done = await this.options.store.update(job.id, {
        state: outcome.state,
        finishedMs,
        durationMs: finishedMs - (job.startedMs ?? finishedMs),
        baseVersion: outcome.baseVersion,
        metrics: outcome.metrics,
        dataSummary: outcome.dataSummary as Record<string, unknown> | null,
        reason: outcome.reason,
        logTail,
        resultVersion: outcome.resultVersion,
      });
    } finally {
      await this.options.store.releaseLock(this.holder).catch((e: Error) => this.log(`retrain: releasing the lock failed: ${e.message}`));
    }
    this.log(`retrain: job ${job.id} (${job.modelId}) ${done.state}${done.reason ? `: ${done.reason}` : ''}`);
    if (done.state === 'failed') this.options.onFailed?.(done);
    else this.options.onRecovered?.(done);
    return done;
  }

  private log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }
}
