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
    return this.metrics.map((m) => m.render()).join('');
  }

  private add<T extends Counter | Gauge | Histogram>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }
}

class Series {
  protected readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected entry(labels: Labels) {
    const key = labelText(labels);
    let e = this.values.get(key);
    if (!e) this.values.set(key, (e = { labels, value: 0 }));
    return e;
  }

  protected lines(type: string): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${type}\n`;
    for (const [key, e] of this.values) out += `${this.name}${key} ${formatNumber(e.value)}\n`;
    return out;
  }
}

export class Counter extends Series {
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }
  render(): string {
    return this.lines('counter');
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
  render(): string {
    return this.lines('gauge');
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; buckets: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly upperBounds: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    let i = this.upperBounds.findIndex((le) => value <= le);
    if (i === -1) i = this.upperBounds.length;
    this.addToBucket(labels, i, 1, value);
  }

  /** Add pre-aggregated observations; `bucket` indexes upperBounds, `upperBounds.length` is +Inf. */
  addToBucket(labels: Labels, bucket: number, count: number, sum: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, buckets: new Array(this.upperBounds.length + 1).fill(0), sum: 0, count: 0 }));
    s.buckets[bucket] += count;
    s.sum += sum;
    s.count += count;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.upperBounds.length; i++) {
        cumulative += s.buckets[i];
        const le = i < this.upperBounds.length ? formatNumber(this.upperBounds[i]) : '+Inf';
        out += `${this.name}_bucket${labelText({ ...s.labels, le })} ${cumulative}\n`;
      }
      out += `${this.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
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
