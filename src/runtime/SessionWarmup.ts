import type { Feeds, WarmupInputs, WarmupReport } from '../core/protocol';
import { warmupMemory, warmupSignature, MAX_SHAPES, type CallShape } from '../cache/warmupMemory';
import { isWarmedUp } from './isWarmedUp';

/** One set of inputs a warm-up may run on. */
export interface WarmupCandidate {
  on: WarmupInputs;
  dims: CallShape;
  fill?: Record<string, number>;
  feeds: () => Feeds;
  /** Generated inputs only: a failure is remembered under this signature (`warmupSignature`). */
  signature?: string;
}

export interface SessionWarmupOptions {
  /** Run the session once on `feeds`, quietly, and free the outputs. */
  run: (feeds: Feeds) => Promise<unknown>;
  /** false (`warmup: false`): the smoke run only, when one is asked for. */
  wanted: boolean;
  /** The model version's key in the warm-up memory; undefined: remember nothing. */
  memoryKey?: string;
  /** The shapes the memory held at load (a load whose first calls repeat them writes nothing). */
  remembered?: CallShape[];
  /** Called once when the warm-up finished and passed. */
  onDone?: (report: WarmupReport) => void;
}

/** How a call met the warm-up (test hooks): runs that ended and started while it waited for its turn. */
export interface CallDuringWarmup {
  warmupRunsEndedWhileWaiting: number;
  warmupRunsStartedWhileWaiting: number;
}

/** Background warm-up runs take at most this much time in all (what the load-time warm-up once could take). */
export const WARMUP_BUDGET_MS = 1500;
/** After a call, warm-up runs resume once the session was idle for one warm-up run, and at least this long. */
const MIN_IDLE_MS = 5;
/** The first calls of a load whose dims are remembered. */
const FIRST_CALLS = 16;
/** Calls made during the warm-up that the test hooks keep. */
const CALLS_KEPT = 16;

/**
 * The warm-up of one session. `smoke` runs it once before the load resolves (on WebGPU that run decides the
 * backend works, and with graph capture it is the capture). The rest runs in the background between calls:
 * a call waits at most for the one warm-up run in flight (a session is not re-entrant), and warm-up runs
 * resume only once the session was idle for as long as one of them takes. Calls of the warm-up's dims
 * count as warm-up runs. When the runs are steady (`isWarmedUp`) or the budget is spent, `onDone` reports.
 * The dims of a load's first calls, and the generated inputs the model refused, go to the warm-up memory.
 */
export class SessionWarmup {
  private readonly options: SessionWarmupOptions;
  private current: WarmupCandidate | undefined;
  /** Remembered shapes past the first: one run each once the warm-up is steady. */
  private extras: WarmupCandidate[] = [];
  private readonly runMs: number[] = [];
  /** Time the background runs took (the budget's), and all passed runs' (the report's). */
  private backgroundMs = 0;
  private totalMs = 0;
  private finished = false;
  private stopped = false;
  private inFlight: Promise<unknown> | undefined;
  private scheduled = false;
  private pendingCalls = 0;
  private lastCallEnd = 0;
  private runsStarted = 0;
  private runsEnded = 0;
  private backgroundRuns = 0;
  private failedAttempts = 0;
  /** Runs that passed before the load resolved (the smoke run). */
  private runsAtLoad = 0;
  private callsSeen = 0;
  private readonly loadShapes: CallShape[] = [];
  private readonly calls: CallDuringWarmup[] = [];
  private writes: Promise<unknown> = Promise.resolve();

  constructor(options: SessionWarmupOptions) {
    this.options = options;
  }

  /**
   * Run the first candidate that passes, once. Generated inputs that fail are remembered (with `memoryKey`).
   * `{ ok: false }` when none passed (`error`: the last failure; undefined when there was nothing to try).
   */
  async smoke(
    candidates: readonly WarmupCandidate[],
    extras: readonly WarmupCandidate[] = [],
  ): Promise<{ ok: boolean; error?: unknown; ms: number }> {
    let error: unknown;
    for (const candidate of candidates) {
      const started = performance.now();
      try {
        await this.options.run(candidate.feeds());
      } catch (failure) {
        error = failure;
        this.failedAttempts++;
        if (candidate.signature) this.remember((key) => warmupMemory.rememberFailure(key, candidate.signature!));
        continue;
      }
      const ms = performance.now() - started;
      this.current = candidate;
      this.extras = extras.filter((e) => warmupSignature(e.dims) !== warmupSignature(candidate.dims));
      this.record(ms);
      return { ok: true, ms };
    }
    return { ok: false, error, ms: 0 };
  }

  /** Continue in the background (after the load resolved). Without a passed smoke run, the first call's inputs are used. */
  start(): void {
    this.runsAtLoad = this.runMs.length;
    if (this.current) this.schedule(0);
  }

  /** Whether the warm-up finished and passed. */
  get warmedUp(): boolean {
    return this.finished;
  }

  /** A call arrived: wait for the warm-up run in flight, if any; no other starts until `leaveCall`. */
  async enterCall(): Promise<void> {
    this.pendingCalls++;
    const during = !this.finished && !this.stopped && this.current !== undefined;
    const [started, ended] = [this.runsStarted, this.runsEnded];
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    if (during && this.calls.length < CALLS_KEPT) {
      this.calls.push({ warmupRunsEndedWhileWaiting: this.runsEnded - ended, warmupRunsStartedWhileWaiting: this.runsStarted - started });
    }
  }

  /** The call is done; `feeds` and `ms` when it passed (its dims are remembered, and it may warm the session). */
  leaveCall(feeds?: Feeds, ms?: number): void {
    this.pendingCalls--;
    this.lastCallEnd = performance.now();
    if (feeds && ms !== undefined) this.countCall(feeds, ms);
    if (this.pendingCalls === 0) this.schedule(this.resumeAfterMs());
  }

  /** No more warm-up runs (the session is being released, or the device was lost). */
  stop(): void {
    this.stopped = true;
    // The first call's inputs are the caller's data: hold them no longer than needed.
    if (this.current?.on === 'first-call') this.current = { ...this.current, feeds: () => ({}) };
  }

  /** Waits for the warm-up run in flight and the memory's writes (before the session is released). */
  async settled(): Promise<void> {
    await Promise.all([this.inFlight?.catch(() => undefined), this.writes]);
  }

  /** For the test hooks. */
  state(): {
    warm: boolean;
    on: WarmupInputs | undefined;
    dims: CallShape | undefined;
    runs: number;
    runsAtLoad: number;
    backgroundRuns: number;
    failedAttempts: number;
    callsDuringWarmup: CallDuringWarmup[];
  } {
    return {
      warm: this.finished,
      on: this.current?.on,
      dims: this.current?.dims,
      runs: this.runMs.length,
      runsAtLoad: this.runsAtLoad,
      backgroundRuns: this.backgroundRuns,
      failedAttempts: this.failedAttempts,
      callsDuringWarmup: [...this.calls],
    };
  }

  /** A call that passed: its dims are remembered, and it warms the session like a warm-up run of the same dims. */
  private countCall(feeds: Feeds, ms: number): void {
    const dims = dimsOf(feeds);
    this.rememberCallShape(dims);
    if (this.finished || this.stopped || !this.options.wanted) return;
    if (!this.current) {
      // The warm-up inputs did not suit the model: warm it on this call's, which do (kept in this worker only).
      this.current = { on: 'first-call', dims, feeds: () => feeds };
    } else if (warmupSignature(dims) === warmupSignature(this.current.dims)) {
      this.record(ms);
      this.finishIfDone();
    }
  }

  private record(ms: number): void {
    this.runMs.push(ms);
    this.totalMs += ms;
  }

  private resumeAfterMs(): number {
    return Math.max(MIN_IDLE_MS, this.runMs.at(-1) ?? 0);
  }

  /**
   * The next step in a task of its own: a call that arrived while a warm-up run held the thread is queued as a
   * message, and a message posted now runs after it (a timer may not), so the call always goes first.
   */
  private schedule(delayMs: number): void {
    if (this.scheduled || this.finished || this.stopped || !this.options.wanted) return;
    this.scheduled = true;
    const next = () => {
      this.scheduled = false;
      void this.step();
    };
    if (delayMs > 0) setTimeout(() => afterQueuedMessages(next), delayMs);
    else afterQueuedMessages(next);
  }

  private async step(): Promise<void> {
    const current = this.current;
    if (!current || this.finished || this.stopped || this.pendingCalls > 0) return;
    const idleMs = performance.now() - this.lastCallEnd;
    if (this.lastCallEnd > 0 && idleMs < this.resumeAfterMs()) return this.schedule(this.resumeAfterMs() - idleMs);
    const extra = isWarmedUp(this.runMs) ? this.extras.shift() : undefined;
    const started = performance.now();
    this.runsStarted++;
    const turn = this.options.run((extra ?? current).feeds());
    this.inFlight = turn;
    try {
      await turn;
    } catch {
      // Inputs that passed once failed now (a remembered extra shape, or the session is going away): stop quietly.
      if (!extra) return this.stop();
    } finally {
      this.inFlight = undefined;
      this.runsEnded++;
    }
    this.backgroundRuns++;
    const ms = performance.now() - started;
    this.backgroundMs += ms;
    if (!extra) this.record(ms);
    if (!this.finishIfDone()) this.schedule(0);
  }

  private finishIfDone(): boolean {
    const steady = isWarmedUp(this.runMs) && this.extras.length === 0;
    if (!steady && this.backgroundMs < WARMUP_BUDGET_MS) return false;
    const current = this.current!;
    this.finished = true;
    this.options.onDone?.({
      runs: this.runMs.length,
      ms: this.totalMs,
      on: current.on,
      dims: current.dims,
      ...(current.fill ? { fill: current.fill } : {}),
      lastRunMs: this.runMs.at(-1) ?? 0,
    });
    if (current.on === 'first-call') this.current = { ...current, feeds: () => ({}) };
    return true;
  }

  /** The dims of a load's first calls go to the memory, unless they repeat what it holds. */
  private rememberCallShape(dims: CallShape): void {
    if (!this.options.memoryKey || !this.options.wanted || this.callsSeen >= FIRST_CALLS) return;
    this.callsSeen++;
    const signature = warmupSignature(dims);
    if (this.loadShapes.length >= MAX_SHAPES || this.loadShapes.some((s) => warmupSignature(s) === signature)) return;
    this.loadShapes.push(dims);
    const remembered = (this.options.remembered ?? []).map((s) => warmupSignature(s));
    if (this.loadShapes.every((s, i) => warmupSignature(s) === remembered[i])) return;
    const shapes = [...this.loadShapes];
    this.remember((key) => warmupMemory.rememberShapes(key, shapes));
  }

  /** Fire-and-forget by design (the memory only saves later loads work), but `settled` waits for it. */
  private remember(write: (key: string) => Promise<void>): void {
    const key = this.options.memoryKey;
    if (!key) return;
    this.writes = this.writes.then(() => write(key)).catch(() => undefined);
  }
}

export function dimsOf(feeds: Feeds): CallShape {
  const dims: CallShape = {};
  for (const name in feeds) dims[name] = [...feeds[name].dims];
  return dims;
}

let channel: MessageChannel | undefined;
const queued: (() => void)[] = [];

/** Run `fn` in a new task, after the messages already queued for this thread. */
function afterQueuedMessages(fn: () => void): void {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => queued.shift()?.();
  }
  queued.push(fn);
  channel.port2.postMessage(null);
}
