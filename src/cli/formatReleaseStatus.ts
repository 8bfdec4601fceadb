/** The part of `GET /v1/releases/{model}` the status table shows. */
export interface ReleaseStatusBody {
  modelId: string;
  stable: string | null;
  lastEvaluation: { version: string; action: string; reason: string } | null;
  versions: Array<{
    version: string;
    state: string;
    percent: number;
    field: {
      installs: number;
      inferences: number;
      feedback: number;
      accuracy: Interval;
      errorRate: Interval;
      p95Ms: Interval;
    };
    lastDecision: { action: string; actor: string; reason: string; atMs: number } | null;
  }>;
}

interface Interval {
  estimate: number | null;
  low: number | null;
  high: number | null;
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);

/** `ondevice release status`: one row per version, intervals in brackets. */
export function formatReleaseStatus(s: ReleaseStatusBody): string {
  const header = [
    'version',
    'state',
    'percent',
    'installs',
    'inferences',
    'accuracy [95% CI] (n)',
    'error rate [CI]',
    'p95 ms [CI]',
    'last decision',
  ];
  const rows = s.versions.map((v) => {
    const f = v.field;
    const acc = f.feedback === 0 ? '–' : `${pct(f.accuracy.estimate)} [${pct(f.accuracy.low)}, ${pct(f.accuracy.high)}] (${f.feedback})`;
    const err = f.inferences === 0 ? '–' : `${pct(f.errorRate.estimate)} [${pct(f.errorRate.low)}, ${pct(f.errorRate.high)}]`;
    const p95 =
      f.p95Ms.estimate === null ? '–' : `${f.p95Ms.estimate.toFixed(1)} [${f.p95Ms.low?.toFixed(1)}, ${f.p95Ms.high?.toFixed(1)}]`;
    const d = v.lastDecision;
    const decision = d ? `${new Date(d.atMs).toISOString().slice(0, 19)}Z ${d.actor} ${d.action}: ${d.reason}` : '–';
    return [v.version, v.state.replace('_', ' '), `${v.percent}%`, String(f.installs), String(f.inferences), acc, err, p95, decision];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === header.length - 1 ? 0 : r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [`${s.modelId}: stable ${s.stable ?? '–'}`, line(header), ...rows.map(line)];
  if (s.lastEvaluation) out.push(`policy: ${s.lastEvaluation.version} ${s.lastEvaluation.action}: ${s.lastEvaluation.reason}`);
  return out.join('\n');
}
