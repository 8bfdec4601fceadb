import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { issuePath } from '../core/schema/issuePath';

export const ALERT_METRICS = ['accuracy', 'psi', 'latency_p95', 'error_rate'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_EVALUATION_INTERVAL_MS = 15_000;

const numberIn = (min: number, max: number, message: string) =>
  v.pipe(v.number(message), v.finite(message), v.minValue(min, message), v.maxValue(max, message));

/**
 * One rule of `config/alerts.json`. A rule is evaluated per series: per model × version for
 * accuracy, psi and error_rate, per model × version × backend for latency_p95.
 */
export const AlertRuleSchema = v.strictObject(
  {
    name: v.pipe(v.string('must be a string'), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must match [A-Za-z0-9_.-]{1,64}')),
    metric: v.picklist(ALERT_METRICS, `must be one of ${ALERT_METRICS.join(', ')}`),
    op: v.picklist(['<', '>'], 'must be "<" or ">"'),
    threshold: numberIn(-1e12, 1e12, 'must be a finite number'),
    /** Sliding window the metric is computed over, ending now. */
    windowMs: numberIn(1000, 90 * DAY_MS, 'must be within [1000, 90 days]'),
    /** Below this many samples the series is not judged (and a firing alert stays as it is). */
    minSamples: v.pipe(numberIn(1, 1e9, 'must be a positive integer'), v.integer('must be a positive integer')),
    /** psi only: length of the baseline window (default: windowMs). */
    baselineWindowMs: v.exactOptional(numberIn(1000, 365 * DAY_MS, 'must be within [1000, 365 days]')),
    /** psi only: how far before now the baseline window ends (default: windowMs, i.e. the window just before). */
    baselineOffsetMs: v.exactOptional(numberIn(1000, 365 * DAY_MS, 'must be within [1000, 365 days]')),
    description: v.exactOptional(v.string('must be a string')),
  },
  (issue) => (issue.expected === 'never' ? 'is not a known key' : issue.received === 'undefined' ? 'is required' : 'must be an object'),
);
export type AlertRule = v.InferOutput<typeof AlertRuleSchema>;

const AlertConfigFields = v.strictObject(
  {
    evaluationIntervalMs: v.optional(numberIn(100, DAY_MS, 'must be within [100, 86400000]'), DEFAULT_EVALUATION_INTERVAL_MS),
    rules: v.pipe(
      v.array(AlertRuleSchema, 'must be an array'),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const seen = new Set<string>();
        dataset.value.forEach((rule, i) => {
          if (seen.has(rule.name)) {
            addIssue({
              message: `"${rule.name}" is not unique`,
              path: [
                { type: 'array', origin: 'value', input: dataset.value, key: i, value: rule },
                { type: 'object', origin: 'value', input: rule, key: 'name', value: rule.name },
              ],
            });
          }
          seen.add(rule.name);
        });
      }),
    ),
  },
  (issue) =>
    issue.expected === 'never' ? 'is not a known key' : issue.received === 'undefined' ? 'is required' : 'alert rules must be an object',
);
export const AlertConfigSchema = v.pipe(
  v.unknown(),
  // valibot's objects accept arrays; a rules file that is a bare array is a mistake worth naming.
  v.check((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'alert rules must be an object'),
  AlertConfigFields,
);
export type AlertConfig = v.InferOutput<typeof AlertConfigSchema>;

export type AlertConfigResult = { ok: true; config: AlertConfig } | { ok: false; error: string };

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

/** Validate alert rules; the first problem comes back as `rules[2].windowMs must be within …`. */
export function parseAlertRules(value: unknown): AlertConfigResult {
  const result = v.safeParse(AlertConfigSchema, value, { abortEarly: true });
  if (result.success) return { ok: true, config: result.output };
  const [issue] = result.issues;
  const path = issuePath(issue, '').replace(/^\./, '');
  return { ok: false, error: path ? `${path} ${issue.message}` : issue.message };
}
