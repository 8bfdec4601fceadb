// npm run demo:traffic -- --model tiny-mlp [--candidate worse|better] [--server URL] [--timeout-ms N]
// Plays field traffic for the release walkthrough (docs/releases.md) against a running server: new installs
// ask /v1/manifest which version they get and send labelled predictions (inference + feedback events) through
// the real ingest, the candidate playing worse or better than stable. After each round it waits for the
// server's next decision-loop pass and prints what the policy did, until the candidate is promoted or rolled
// back. Exits 1 when neither happens within --timeout-ms.
import { parseArgs } from 'node:util';
import { FieldTraffic } from './releases/FieldTraffic';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'tiny-mlp' },
    candidate: { type: 'string', default: 'worse' },
    server: { type: 'string', default: process.env.ONDEVICE_SERVER ?? 'http://127.0.0.1:8080' },
    'timeout-ms': { type: 'string', default: '600000' },
  },
});
const modelId = values.model!;
const base = values.server!.replace(/\/$/, '');
if (values.candidate !== 'worse' && values.candidate !== 'better') {
  console.error('demo:traffic: --candidate must be worse or better');
  process.exit(2);
}
const candidateAccuracy = values.candidate === 'worse' ? 0.6 : 0.92;
const deadline = Date.now() + Number(values['timeout-ms']);

interface Interval {
  estimate: number;
  low: number;
  high: number;
}
/** The fields of `GET /v1/releases/<model>` this script reads. */
interface ReleaseStatus {
  stable: string | null;
  lastPassAtMs: number | null;
  lastEvaluation: { action: string; reason: string } | null;
  policy: { minFeedback: number; minInferences: number; maxFeedbackPerInstall: number };
  versions: {
    version: string;
    state: string;
    percent: number;
    field: { feedback: number; accuracy: Interval };
    lastDecision: { reason: string } | null;
  }[];
}

async function status(): Promise<ReleaseStatus> {
  const res = await fetch(`${base}/v1/releases/${encodeURIComponent(modelId)}`, { signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as ReleaseStatus;
  if (!res.ok) throw new Error(`status answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The status after the decision loop's next pass that began after `afterMs`; throws past the deadline. */
async function statusAfterPass(afterMs: number): Promise<ReleaseStatus> {
  for (;;) {
    const s = await status();
    if (s.lastPassAtMs !== null && s.lastPassAtMs > afterMs) return s;
    if (Date.now() > deadline) throw new Error(`no decision-loop pass on ${modelId} before the deadline`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const interval = (i: Interval) => `${i.estimate.toFixed(3)} [${i.low.toFixed(3)}, ${i.high.toFixed(3)}]`;

const first = await status();
const candidate = first.versions.find((v) => v.state === 'candidate' && v.percent > 0);
if (!candidate) {
  console.error(`demo:traffic: ${modelId} has no candidate rolling out; start one with \`npx ondevice release rollout\``);
  process.exit(1);
}
console.log(
  `demo:traffic: ${modelId} stable ${first.stable} (accuracy 0.90), candidate ${candidate.version} at ${candidate.percent} % ` +
    `(accuracy ${candidateAccuracy}); policy minFeedback ${first.policy.minFeedback}, minInferences ${first.policy.minInferences}`,
);
const traffic = new FieldTraffic(base, modelId, {
  stable: { accuracy: 0.9, latencyMs: 10 },
  candidate: { accuracy: candidateAccuracy, latencyMs: 10 },
});
const pairs = Math.max(first.policy.minFeedback, first.policy.minInferences);
for (;;) {
  if (Date.now() > deadline) throw new Error(`${modelId} ${candidate.version} is still a candidate at the deadline`);
  const sent = await traffic.round({ candidatePairs: pairs, stablePairs: pairs, pairsPerInstall: first.policy.maxFeedbackPerInstall });
  const s = await statusAfterPass(Date.now());
  const now = s.versions.find((v) => v.version === candidate.version)!;
  const field = now.field;
  console.log(
    `sent ${sent.candidate} candidate / ${sent.stable} stable predictions → ${candidate.version} ${now.state} at ${now.percent} %; ` +
      `${s.lastEvaluation ? `${s.lastEvaluation.action}: ${s.lastEvaluation.reason}` : ''}` +
      ` (candidate accuracy ${interval(field.accuracy)} over ${field.feedback} feedback)`,
  );
  if (now.state !== 'candidate') {
    console.log(
      `demo:traffic: ${modelId} ${candidate.version} ${now.state === 'stable' ? 'promoted' : now.state.replace('_', ' ')}: ${now.lastDecision?.reason ?? ''}`,
    );
    break;
  }
}
