import { randomUUID } from 'node:crypto';
import { mulberry32 } from '../../src/core/mulberry32';

// The release demo's field traffic (`npm run demo:traffic`) and the rollout test's (test/releases/rollout.test.ts):
// one generator, so the walkthrough shows what the test asserts.

export interface VersionBehaviour {
  /** Probability that a prediction is right (the feedback label equals the predicted class). */
  accuracy: number;
  /** Inference latency in ms: base + uniform jitter. */
  latencyMs: number;
}

/**
 * Simulated field traffic through the real ingest: new installs ask the manifest which version they
 * are assigned, then run `pairsPerInstall` labelled predictions on it (inference + feedback events with
 * `modelVersion`), posted to /v1/events. Installs are drawn until the candidate received
 * `candidatePairs` predictions; stable installs stop sending once stable has `stablePairs` (it would
 * get 99 % of the traffic at a 1 % stage). Seeded randomness keeps runs comparable.
 */
export class FieldTraffic {
  private readonly random = mulberry32(12345);
  sent = { candidate: 0, stable: 0 };
  /** The candidate version this traffic has seen rolling out. */
  private candidate: string | undefined;

  constructor(
    private readonly base: string,
    private readonly modelId: string,
    /** By version, else by state (`stable`, `candidate`): how each plays in the field. */
    private readonly behaviour: Record<string, VersionBehaviour>,
  ) {}

  async round(o: {
    candidatePairs: number;
    stablePairs: number;
    pairsPerInstall: number;
    maxInstalls?: number;
  }): Promise<{ candidate: number; stable: number }> {
    const sent = { candidate: 0, stable: 0 };
    const maxInstalls = o.maxInstalls ?? 20_000;
    for (let drawn = 0; sent.candidate < o.candidatePairs;) {
      const batch = await Promise.all(
        Array.from({ length: 32 }, async () => {
          const installId = `sim-${randomUUID()}`;
          const manifest = await call(`${this.base}/v1/manifest?install=${installId}`);
          if (manifest.status !== 200) throw new Error(`manifest: ${manifest.status} ${JSON.stringify(manifest.body)}`);
          const entry = manifest.body.models[this.modelId] as {
            version: string;
            state: 'stable' | 'candidate';
            stable: string;
            rolledBack: string[];
          };
          return { installId, entry };
        }),
      );
      drawn += batch.length;
      // The policy decided while this round ran: the candidate was rolled back or promoted, so there is
      // no candidate left to send to. The round ends; the caller reads the decision.
      const decided = batch.some(({ entry }) => entry.rolledBack.includes(this.candidate ?? '') || entry.stable === this.candidate);
      if (decided) break;
      this.candidate ??= batch.find(({ entry }) => entry.state === 'candidate')?.entry.version;
      if (drawn > maxInstalls) throw new Error(`drew ${drawn} installs without reaching ${o.candidatePairs} candidate predictions`);
      const events: unknown[] = [];
      for (const { installId, entry } of batch) {
        if (entry.state === 'stable' && sent.stable >= o.stablePairs) continue;
        if (entry.state === 'candidate' && sent.candidate >= o.candidatePairs) continue;
        const b = this.behaviour[entry.version] ?? this.behaviour[entry.state];
        if (!b) throw new Error(`no behaviour for version ${entry.version}`);
        for (let i = 0; i < o.pairsPerInstall; i++) events.push(...this.pair(installId, entry.version, b));
        sent[entry.state] += o.pairsPerInstall;
      }
      for (let i = 0; i < events.length; i += 400) await this.post(events.slice(i, i + 400));
    }
    this.sent.candidate += sent.candidate;
    this.sent.stable += sent.stable;
    return sent;
  }

  private pair(installId: string, version: string, b: VersionBehaviour) {
    const predictionId = randomUUID();
    const predicted = Math.floor(this.random() * 4);
    const correct = this.random() < b.accuracy;
    const common = { installId, sessionId: `s-${installId}`, modelId: this.modelId, modelVersion: version, ts: Date.now() };
    return [
      {
        ...common,
        id: randomUUID(),
        type: 'inference',
        backend: 'wasm',
        ms: b.latencyMs + this.random() * 2,
        inputDims: { x: [1, 16] },
        output: { topClass: predicted, score: 0.9, predictionId },
      },
      { ...common, id: randomUUID(), type: 'feedback', predictionId, label: correct ? predicted : (predicted + 1) % 4 },
    ];
  }

  private async post(events: unknown[]): Promise<void> {
    const res = await call(`${this.base}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ siteKey: 'demo', events }),
    });
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}

/** An HTTP call with a bound; the body is parsed as JSON when it is JSON. */
async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json');
  return { status: res.status, body: json ? JSON.parse(text) : text };
}
