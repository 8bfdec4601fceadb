type Labels = Record<string, string>;

/**
 * A minimal Prometheus text-exposition registry (format 0.0.4:
 * https://prometheus.io/docs/instrumenting/exposition_formats/). Counters, gauges and histograms
 * with labels; enough for the collector without a client-library dependency.
 */
export class PrometheusRegistry {
  private readonly metrics: Array<Counter | Gauge | Histogram> = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }

  histogram(name: string, help: string, upperBounds: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, upperBounds));
  }

  render(): string {
    return [...this.renderParts()].join('');
  }

  /**
   * The exposition as pieces, rendered as they are taken (and cached per series until it changes),
   * so a large exposition can be written out slice by slice without one long pause.
   */
  *renderParts(): Generator<string> {
    for (const m of this.metrics) yield* m.renderParts();
  }

  private add<T extends Counter | Gauge | Histogram>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
}

class Series {
  /** Each entry keeps its rendered line until its value changes, so a scrape mostly concatenates. */
  protected readonly values = new Map<string, { labels: Labels; value: number; line: string | undefined }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected entry(labels: Labels) {
    const key = labelText(labels);
    let e = this.values.get(key);
    if (!e) this.values.set(key, (e = { labels, value: 0, line: undefined }));
    e.line = undefined;
    return e;
  }

  protected *lines(type: string): Generator<string> {
    yield `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${type}\n`;
    for (const [key, e] of this.values) yield (e.line ??= `${this.name}${key} ${formatNumber(e.value)}\n`);
  }
}

export class Counter extends Series {
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }
  /** Forget every series (before refilling from a source of truth, e.g. a shared database). */
  clear(): void {
    this.values.clear();
  }
  renderParts(): Generator<string> {
    return this.lines('counter');
  }
  render(): string {
    return [...this.renderParts()].join('');
  }
}

export class Gauge extends Series {
  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }
  /** Replace every series at once (e.g. firing alerts per rule), so vanished label sets disappear. */
  reset(values: Array<{ labels: Labels; value: number }>): void {
    this.values.clear();
    for (const v of values) this.set(v.labels, v.value);
  }
  renderParts(): Generator<string> {
    return this.lines('gauge');
  }
  render(): string {
    return [...this.renderParts()].join('');
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number; text: string | undefined }>();
  private readonly leTexts: string[];
  constructor(
    readonly name: string,
    readonly help: string,
    readonly upperBounds: readonly number[],
  ) {
    this.leTexts = [...upperBounds.map(formatNumber), '+Inf'];
  }

  observe(labels: Labels, value: number): void {
    let i = this.upperBounds.findIndex((le) => value <= le);
    if (i === -1) i = this.upperBounds.length;
    this.addToBucket(labels, i, 1, value);
  }

  /** Forget every series (before refilling from a source of truth, e.g. a shared database). */
  clear(): void {
    this.series.clear();
  }

  /** Add pre-aggregated observations; `bucket` indexes upperBounds, `upperBounds.length` is +Inf. */
  addToBucket(labels: Labels, bucket: number, count: number, sum: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, buckets: new Array(this.upperBounds.length + 1).fill(0), sum: 0, count: 0, text: undefined };
      this.series.set(key, s);
    }
    s.buckets[bucket] += count;
    s.sum += sum;
    s.count += count;
    s.text = undefined;
  }

  render(): string {
    return [...this.renderParts()].join('');
  }

  *renderParts(): Generator<string> {
    yield `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [key, s] of this.series) yield (s.text ??= this.renderSeries(key, s));
  }

  private renderSeries(key: string, s: { labels: Labels; buckets: number[]; sum: number; count: number }): string {
    // `key` is `{a="b"}` (or empty): the bucket lines insert `le` before its closing brace.
    const open = key === '' ? '{' : `${key.slice(0, -1)},`;
    let out = '';
    let cumulative = 0;
    for (let i = 0; i < this.leTexts.length; i++) {
      cumulative += s.buckets[i];
      out += `${this.name}_bucket${open}le="${this.leTexts[i]}"} ${cumulative}\n`;
    }
    return `${out}${this.name}_sum${key} ${formatNumber(s.sum)}\n${this.name}_count${key} ${s.count}\n`;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}
