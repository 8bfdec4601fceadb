import type { AlertRule } from './alertRules';
import type { AlertStore } from './AlertStore';
import type { AlertRecord, MonitorSample } from './storeRows';
import type { Measurement } from './measureRule';

export type AlertTransition = { status: 'firing' | 'resolved'; alert: AlertRecord };

export interface AlertMonitorOptions {
  store: AlertStore;
  rules: readonly AlertRule[];
  /** Measure every rule (one list per rule): on a worker thread in the collector, inline in tests. */
  measure: (rules: readonly AlertRule[], nowMs: number) => Promise<Measurement[][]>;
  /** Evaluate on this period even without traffic (windows slide, so alerts resolve or fire over time). */
  intervalMs: number;
  /** After ingest, evaluate at most once per this period (a throttle, so steady traffic cannot starve it). */
  throttleMs: number;
  /** Persist measured values for the dashboard at most this often. */
  sampleIntervalMs: number;
  /** Measured values older than this are pruned. */
  sampleRetentionMs: number;
  onTransition: (t: AlertTransition) => void;
  onError: (error: unknown) => void;
  now: () => number;
  /**
   * Whether this instance evaluates (LeaderLease.isLeader): with several collectors on one database only
   * the leader judges and writes alerts; the others evaluate nothing. Default: always.
   */
  isLeader?: () => boolean;
  /**
   * Alerts no rule measures, raised and resolved by other parts of the server with `raise`/`clear`
   * (e.g. `retrain-job-failed`): kept firing across a restart instead of resolved as a removed rule.
   */
  externalRules?: readonly string[];
}

const PRUNE_EVERY_EVALUATIONS = 500;

/**
 * Evaluates alert rules continuously and records firing → resolved transitions. A series with fewer
 * than `minSamples` observations is not judged: a firing alert stays firing until enough data says
 * it recovered, and nothing fires on a handful of events.
 */
export class AlertMonitor {
  private readonly firing = new Map<string, AlertRecord>();
  private readonly rulesByName: Map<string, AlertRule>;
  private interval: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private lastSampleAtMs = Number.NEGATIVE_INFINITY;
  private evaluations = 0;
  private closed = false;
  /** Settles once the alerts left firing by an earlier run are loaded (evaluations wait for it). */
  readonly ready: Promise<void>;
  /** Tail of the evaluation chain: evaluations run one at a time, in call order. */
  private tail: Promise<unknown>;
  /** A timer-triggered evaluation is waiting in the chain; another would see nothing new. */
  private queued = false;
  /** `firing` mirrors the store as this instance left it; false after a spell as follower. */
  private firingLoaded: boolean;

  constructor(private readonly options: AlertMonitorOptions) {
    this.rulesByName = new Map(options.rules.map((r) => [r.name, r]));
    this.firingLoaded = this.leads();
    this.ready = this.firingLoaded ? this.loadFiring() : Promise.resolve();
    this.tail = this.ready.catch(() => undefined);
  }

  private leads(): boolean {
    return this.options.isLeader?.() ?? true;
  }

  private async loadFiring(): Promise<void> {
    const { store, now, onTransition } = this.options;
    this.firing.clear();
    for (const alert of await store.firingAlerts()) {
      if (this.rulesByName.has(alert.rule) || this.options.externalRules?.includes(alert.rule)) {
        this.firing.set(seriesKey(alert.rule, alert.series), alert);
      } else {
        // The rule was removed from the config: nothing will ever resolve it otherwise.
        onTransition({ status: 'resolved', alert: await store.resolveAlert(alert.id, now(), Number.NaN) });
      }
    }
  }

  start(): void {
    if (this.interval || this.closed) return;
    this.interval = setInterval(() => this.safeEvaluate(), this.options.intervalMs);
    this.interval.unref();
    this.evaluateSoon();
  }

  /** Fire-and-forget: schedule an evaluation within `throttleMs` unless one is already scheduled. */
  evaluateSoon(): void {
    if (this.pending || this.closed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.safeEvaluate();
    }, this.options.throttleMs);
    this.pending.unref();
  }

  firingAlerts(): AlertRecord[] {
    return [...this.firing.values()];
  }

  /** Evaluate every rule now (after any evaluation in progress); resolves with the transitions it made. */
  evaluate(): Promise<AlertTransition[]> {
    const run = Promise.all([this.ready, this.tail]).then(() => this.evaluateOnce());
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async evaluateOnce(): Promise<AlertTransition[]> {
    const { store, rules, now } = this.options;
    if (!this.leads()) {
      // Another instance judges; what it opened and resolved meanwhile is reloaded on taking over.
      this.firingLoaded = false;
      return [];
    }
    if (!this.firingLoaded) {
      await this.loadFiring();
      this.firingLoaded = true;
    }
    const nowMs = now();
    const measured = await this.options.measure(rules, nowMs);
    if (this.closed) return [];
    const transitions: AlertTransition[] = [];
    const samples: MonitorSample[] = [];
    for (const [i, rule] of rules.entries()) {
      for (const m of measured[i] ?? []) {
        if (!Number.isFinite(m.value)) continue;
        samples.push({ atMs: nowMs, metric: rule.metric, labels: m.labels, value: m.value, samples: m.samples });
        const t = await this.judge(rule, m, nowMs);
        if (t) transitions.push(t);
      }
    }
    if (nowMs - this.lastSampleAtMs >= this.options.sampleIntervalMs && samples.length > 0) {
      await store.insertMonitorSamples(samples);
      this.lastSampleAtMs = nowMs;
    }
    if (++this.evaluations % PRUNE_EVERY_EVALUATIONS === 1) await store.pruneMonitorSamples(nowMs - this.options.sampleRetentionMs);
    for (const t of transitions) this.options.onTransition(t);
    return transitions;
  }

  /** Fire an external alert (one of `externalRules`) for `labels`, unless it is already firing. */
  raise(a: { rule: string; labels: Record<string, string>; value: number; description: string }): Promise<AlertTransition | undefined> {
    const run = Promise.all([this.ready, this.tail]).then(async () => {
      await this.syncIfFollowing();
      const series = seriesId(a.labels);
      if (this.firing.has(seriesKey(a.rule, series))) return undefined;
      const alert = await this.options.store.openAlert({
        rule: a.rule,
        metric: a.description,
        series,
        labels: a.labels,
        op: '>',
        threshold: 0,
        value: a.value,
        samples: 1,
        firedAtMs: this.options.now(),
      });
      this.firing.set(seriesKey(a.rule, series), alert);
      const t: AlertTransition = { status: 'firing', alert };
      this.options.onTransition(t);
      return t;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolve a firing external alert; nothing when it is not firing. */
  clear(rule: string, labels: Record<string, string>, value: number): Promise<AlertTransition | undefined> {
    const run = Promise.all([this.ready, this.tail]).then(async () => {
      await this.syncIfFollowing();
      const key = seriesKey(rule, seriesId(labels));
      const current = this.firing.get(key);
      if (!current) return undefined;
      this.firing.delete(key);
      const t: AlertTransition = {
        status: 'resolved',
        alert: await this.options.store.resolveAlert(current.id, this.options.now(), value),
      };
      this.options.onTransition(t);
      return t;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * A follower's map is not kept up to date (the leader judges): before an external raise or clear there,
   * read what is firing from the store, without resolving anything (that is the leader's to do).
   */
  private async syncIfFollowing(): Promise<void> {
    if (this.leads() && this.firingLoaded) return;
    this.firing.clear();
    for (const alert of await this.options.store.firingAlerts()) this.firing.set(seriesKey(alert.rule, alert.series), alert);
    this.firingLoaded = false;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.interval);
    clearTimeout(this.pending);
  }

  private async judge(rule: AlertRule, m: Measurement, nowMs: number): Promise<AlertTransition | undefined> {
    if (m.samples < rule.minSamples) return undefined;
    const series = seriesId(m.labels);
    const key = seriesKey(rule.name, series);
    const breached = rule.op === '<' ? m.value < rule.threshold : m.value > rule.threshold;
    const current = this.firing.get(key);
    if (breached && !current) {
      const alert = await this.options.store.openAlert({
        rule: rule.name,
        metric: rule.metric,
        series,
        labels: m.labels,
        op: rule.op,
        threshold: rule.threshold,
        value: m.value,
        samples: m.samples,
        firedAtMs: nowMs,
      });
      this.firing.set(key, alert);
      return { status: 'firing', alert };
    }
    if (!breached && current) {
      this.firing.delete(key);
      return { status: 'resolved', alert: await this.options.store.resolveAlert(current.id, nowMs, m.value) };
    }
    return undefined;
  }

  /** Fire-and-forget evaluation from timers; coalesces while one is already waiting. */
  private safeEvaluate(): void {
    if (this.queued || this.closed) return;
    this.queued = true;
    const run = Promise.all([this.ready, this.tail]).then(() => {
      this.queued = false;
      return this.evaluateOnce();
    });
    this.tail = run.catch(() => undefined);
    // A failing evaluation (e.g. the database closed under us during shutdown) must not kill ingest.
    run.catch((e) => {
      if (!this.closed) this.options.onError(e);
    });
  }
}

/** Canonical JSON of the labels (sorted keys), so the same series always gets the same id. */
export function seriesId(labels: Record<string, string>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

function seriesKey(rule: string, series: string): string {
  return `${rule}\u0000${series}`;
}
