import { readFile } from 'node:fs/promises';

export const ALERT_METRICS = ['accuracy', 'psi', 'latency_p95', 'error_rate'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

/**
 * One rule of `config/alerts.json`. A rule is evaluated per series: per model × version for
 * accuracy, psi and error_rate, per model × version × backend for latency_p95.
 */
export interface AlertRule {
  name: string;
  metric: AlertMetric;
  op: '<' | '>';
  threshold: number;
  /** Sliding window the metric is computed over, ending now. */
  windowMs: number;
  /** Below this many samples the series is not judged (and a firing alert stays as it is). */
  minSamples: number;
  /** psi only: length of the baseline window (default: windowMs). */
  baselineWindowMs?: number;
  /** psi only: how far before now the baseline window ends (default: windowMs, i.e. the window just before). */
  baselineOffsetMs?: number;
  description?: string;
}

export interface AlertConfig {
  evaluationIntervalMs: number;
  rules: AlertRule[];
}

export type AlertConfigResult = { ok: true; config: AlertConfig } | { ok: false; error: string };

const DEFAULT_EVALUATION_INTERVAL_MS = 15_000;
const RULE_KEYS = new Set([
  'name',
  'metric',
  'op',
  'threshold',
  'windowMs',
  'minSamples',
  'baselineWindowMs',
  'baselineOffsetMs',
  'description',
]);
const DAY_MS = 24 * 60 * 60 * 1000;

/** Read and validate an alert-rules file. A broken file is a startup error, never a silent no-op. */
export async function loadAlertRules(path: string): Promise<AlertConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return { ok: false, error: `cannot read alert rules ${path}: ${(e as Error).message}` };
  }
  try {
    return parseAlertRules(JSON.parse(text));
  } catch (e) {
    return { ok: false, error: `alert rules ${path} are not JSON: ${(e as Error).message}` };
  }
}

export function parseAlertRules(value: unknown): AlertConfigResult {
  if (!isRecord(value)) return { ok: false, error: 'alert rules must be an object' };
  const interval = value.evaluationIntervalMs ?? DEFAULT_EVALUATION_INTERVAL_MS;
  if (!isNumberIn(interval, 100, DAY_MS)) return { ok: false, error: 'evaluationIntervalMs must be within [100, 86400000]' };
  if (!Array.isArray(value.rules)) return { ok: false, error: 'rules must be an array' };
  const rules: AlertRule[] = [];
  const names = new Set<string>();
  for (const [i, r] of value.rules.entries()) {
    const at = `rules[${i}]`;
    if (!isRecord(r)) return { ok: false, error: `${at} must be an object` };
    const unknown = Object.keys(r).find((k) => !RULE_KEYS.has(k));
    if (unknown) return { ok: false, error: `${at}.${unknown} is not a known key` };
    if (typeof r.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(r.name))
      return { ok: false, error: `${at}.name must match [A-Za-z0-9_.-]{1,64}` };
    if (names.has(r.name)) return { ok: false, error: `${at}.name "${r.name}" is not unique` };
    names.add(r.name);
    if (!(ALERT_METRICS as readonly unknown[]).includes(r.metric))
      return { ok: false, error: `${at}.metric must be one of ${ALERT_METRICS.join(', ')}` };
    if (r.op !== '<' && r.op !== '>') return { ok: false, error: `${at}.op must be "<" or ">"` };
    if (!isNumberIn(r.threshold, -1e12, 1e12)) return { ok: false, error: `${at}.threshold must be a finite number` };
    if (!isNumberIn(r.windowMs, 1000, 90 * DAY_MS)) return { ok: false, error: `${at}.windowMs must be within [1000, 90 days]` };
    if (!Number.isInteger(r.minSamples) || !isNumberIn(r.minSamples, 1, 1e9))
      return { ok: false, error: `${at}.minSamples must be a positive integer` };
    for (const k of ['baselineWindowMs', 'baselineOffsetMs'] as const) {
      if (r[k] !== undefined && !isNumberIn(r[k], 1000, 365 * DAY_MS))
        return { ok: false, error: `${at}.${k} must be within [1000, 365 days]` };
    }
    if (r.description !== undefined && typeof r.description !== 'string') return { ok: false, error: `${at}.description must be a string` };
    rules.push(r as unknown as AlertRule);
  }
  return { ok: true, config: { evaluationIntervalMs: interval as number, rules } };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumberIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}
