import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { TensorSpec } from '../core/protocol';
import { OnDeviceError } from '../core/OnDeviceError';
import { assignBucket } from './assignBucket';
import { decideRollout, evidenceOf, type RolloutDecision } from './decideRollout';
import { zFor } from './intervals';
import type { OptimizedCopy } from './deriveOptimizedCopy';
import { releaseBytesUrl, releaseOptimizedUrl } from './releaseIds';
import type { Decision, Evaluation, Release, ReleaseEntry, ReleaseStore } from './ReleaseStore';
import { ReleaseManifestSchema, type ReleaseManifest } from '../registry/ReleaseManifest';
import { policyFor, type RolloutConfig } from './rolloutPolicy';
import { signatureIncompatibilities } from './signatureIncompatibilities';
import type { VersionMetricsSource } from './VersionMetrics';

/** A refusal the HTTP layer answers as `{error, code}` with `status`. */
export class ReleaseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * A publish whose model work passed a sandbox limit, or killed its sandbox process, is refused as 422
 * MODEL_LOAD_FAILED with `details.reason` ('TIMEOUT' | 'MEMORY' | 'CRASHED') and the limit it passed.
 */
function sandboxRefusal(error: unknown): ReleaseError | undefined {
  if (!(error instanceof OnDeviceError)) return undefined;
  const { reason, limitMs, limitBytes } = error.details;
  if (reason !== 'TIMEOUT' && reason !== 'MEMORY' && error.code !== 'WORKER_CRASHED') return undefined;
  const details = reason === 'TIMEOUT' ? { reason, limitMs } : reason === 'MEMORY' ? { reason, limitBytes } : { reason: 'CRASHED' };
  return new ReleaseError(422, 'MODEL_LOAD_FAILED', error.message, { details });
}

export interface ReleaseServiceOptions {
  store: ReleaseStore;
  metrics: VersionMetricsSource;
  config: RolloutConfig;
  /** Loads the bytes into onnxruntime and reads the signature (readSignature); injectable for tests of the policy. */
  readSignature: (bytes: Uint8Array) => Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }>;
  /**
   * Derives the pre-optimised copy of a published version and checks its outputs against the upload's
   * (deriveOptimizedCopy); injectable for tests of the policy. Omitted: versions are published without a copy.
   * A copy that cannot be derived never fails the publish: the version is published without one.
   */
  deriveOptimized?: (
    bytes: Uint8Array,
    release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  ) => Promise<OptimizedCopy>;
  /** Called for every version that becomes a release (ModelKeyBudget.addKnown: its events always count). */
  onKnownVersion?: (modelId: string, version: string) => void;
  /** An automatic rollback (webhook, log). */
  onRollback?: (decision: Decision) => void;
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Publishing, rollout changes, the manifest and the decision loop's step, over a ReleaseStore. */
export class ReleaseService {
  private readonly now: () => number;
  /** The last evaluation per model (holds are not logged as decisions; the status shows the latest). */
  /** When the decision loop last finished a pass (null: not yet). */

  /** Pre-optimised copies of registry versions (registry `optimized`), by `id@version#sha256`: served in the manifest. */
  private readonly copies = new Map<string, NonNullable<ReleaseManifest['models'][string]['optimized']>>();

  constructor(private readonly options: ReleaseServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  get store(): ReleaseStore {
    return this.options.store;
  }

  /** Seed each registry entry as its model's first stable release (a model that has releases is left alone). */
  async seed(
    entries: ReadonlyArray<Record<string, unknown> & { id: string; version: string; file: string; sha256: string; bytes: number }>,
  ) {
    for (const e of entries) {
      const copy = e.optimized as { file: string; sha256: string; bytes: number; onnxruntime: string } | undefined;
      if (copy)
        this.copies.set(`${e.id}@${e.version}#${e.sha256}`, {
          url: `/models/${copy.file}`,
          sha256: copy.sha256,
          bytes: copy.bytes,
          onnxruntime: copy.onnxruntime,
        });
    }
    const known = new Set(await this.store.modelIds());
    const firstPerModel = new Map<string, (typeof entries)[number]>();
    for (const e of entries) if (!firstPerModel.has(e.id)) firstPerModel.set(e.id, e);
    for (const e of firstPerModel.values()) {
      if (known.has(e.id)) continue;
      const { source: _source, optimized: _optimized, ...fields } = e;
      const entry = { ...fields, url: `/models/${e.file}` } as unknown as ReleaseEntry;
      await this.store.publish(
        {
          modelId: e.id,
          version: e.version,
          sha256: e.sha256,
          entry,
          notes: 'seeded from models/registry.json',
          metrics: null,
          publishedMs: this.now(),
          state: 'stable',
          percent: 100,
        },
        this.decision(e.id, e.version, 'publish', 0, 100, 'operator', 'seeded from models/registry.json as the first stable release', null),
      );
    }
    for (const id of await this.store.modelIds()) for (const r of await this.store.list(id)) this.options.onKnownVersion?.(id, r.version);
  }

  /**
   * Publish `bytes` as `version` of `modelId`: stored content-addressed, loaded by onnxruntime (bytes that
   * do not load are refused), signature checked against the current stable version unless `breaking`.
   * A new version starts at 0 %; the first version of an unknown model is its stable release. Its pre-optimised
   * copy (`entry.optimized`, served at …/model.extended.onnx) is derived and checked here; when it cannot be,
   * the version is published without one and `optimizedError` says why.
   */
  async publish(input: {
    modelId: string;
    version: string;
    bytes: Uint8Array;
    notes?: string;
    metrics?: unknown;
    breaking?: boolean;
  }): Promise<Release & { optimizedError?: string }> {
    const { modelId, version, bytes } = input;
    if (await this.store.get(modelId, version)) throw new ReleaseError(409, 'VERSION_EXISTS', `${modelId} ${version} is already published`);
    if (bytes.byteLength === 0) throw new ReleaseError(400, 'INVALID_INPUT', 'the body is empty: send the ONNX bytes');
    let signature;
    try {
      signature = await this.options.readSignature(bytes);
    } catch (e) {
      if (e instanceof OnDeviceError) throw sandboxRefusal(e) ?? new ReleaseError(422, e.code, e.message);
      throw e;
    }
    const versions = await this.store.list(modelId);
    const stable = versions.find((r) => r.state === 'stable');
    const problems = stable ? signatureIncompatibilities(stable.entry, signature) : [];
    if (problems.length > 0 && !input.breaking)
      throw new ReleaseError(
        409,
        'INCOMPATIBLE_SIGNATURE',
        `${modelId} ${version} is not compatible with stable ${stable!.version}: ${problems.join('; ')} (publish with --breaking to accept)`,
        { problems },
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const base: Record<string, unknown> = stable?.entry ?? {};
    const entry: ReleaseEntry = {
      ...pick(base, ['license', 'task', 'description']),
      id: modelId,
      version,
      file: `releases/${modelId}/${version}/model.onnx`,
      url: releaseBytesUrl(modelId, version),
      sha256,
      bytes: bytes.byteLength,
      inputs: signature.inputs,
      outputs: signature.outputs,
      // The stable version's sample hint still fits a compatible signature.
      ...(problems.length === 0 && base.sample !== undefined ? { sample: base.sample } : {}),
    };
    const { copy, optimizedError } = await this.deriveCopy(bytes, entry);
    if (copy) entry.optimized = { url: releaseOptimizedUrl(modelId, version), ...copy.entry };
    const first = stable === undefined;
    const atMs = this.now();
    const published = await this.store.publish(
      {
        modelId,
        version,
        sha256,
        entry,
        notes: input.notes ?? null,
        metrics: input.metrics ?? null,
        publishedMs: atMs,
        bytes,
        ...(copy ? { optimized: { sha256: copy.entry.sha256, bytes: copy.bytes } } : {}),
        state: first ? 'stable' : 'candidate',
        percent: first ? 100 : 0,
      },
      this.decision(
        modelId,
        version,
        'publish',
        0,
        first ? 100 : 0,
        'operator',
        first ? 'first release of the model: stable' : 'published at 0 %',
        {
          sha256,
          bytes: bytes.byteLength,
          breaking: problems.length > 0,
          problems,
          optimized: copy ? { sha256: copy.entry.sha256, bytes: copy.entry.bytes, onnxruntime: copy.entry.onnxruntime } : null,
          ...(optimizedError ? { optimizedError } : {}),
        },
      ),
    );
    if (!published) throw new ReleaseError(409, 'VERSION_EXISTS', `${modelId} ${version} is already published`);
    this.options.onKnownVersion?.(modelId, version);
    const release = (await this.store.get(modelId, version))!;
    return optimizedError ? { ...release, optimizedError } : release;
  }

  /** The pre-optimised copy of uploaded bytes, or why there is none (a failure here never fails the publish). */
  private async deriveCopy(
    bytes: Uint8Array,
    entry: ReleaseEntry,
  ): Promise<{ copy?: { bytes: Uint8Array; entry: { sha256: string; bytes: number; onnxruntime: string } }; optimizedError?: string }> {
    if (!this.options.deriveOptimized) return {};
    try {
      const copy = await this.options.deriveOptimized(bytes, entry);
      const sha256 = createHash('sha256').update(copy.bytes).digest('hex');
      return { copy: { bytes: copy.bytes, entry: { sha256, bytes: copy.bytes.byteLength, onnxruntime: copy.onnxruntime } } };
    } catch (e) {
      // Running the upload on sample inputs past a sandbox limit refuses the upload; any other failure only costs the copy.
      const refusal = sandboxRefusal(e);
      if (refusal) throw refusal;
      return { optimizedError: `no pre-optimised copy: ${e instanceof Error ? e.message : String(e)}` };
    }
  }

  /** Operator: set a candidate's share of installs. 100 promotes it. */
  async setPercent(modelId: string, version: string, percent: number): Promise<Release> {
    const release = await this.requireRelease(modelId, version);
    if (percent === 100) return this.promote(modelId, version, 'operator', 'rolled out to 100 %');
    if (release.state !== 'candidate')
      throw new ReleaseError(
        409,
        'NOT_A_CANDIDATE',
        `${modelId} ${version} is ${release.state.replace('_', ' ')}; only a candidate can be rolled out`,
      );
    const other = (await this.store.list(modelId)).find((r) => r.state === 'candidate' && r.percent > 0 && r.version !== version);
    if (other && percent > 0)
      throw new ReleaseError(
        409,
        'ROLLOUT_IN_PROGRESS',
        `${modelId} ${other.version} is already rolling out at ${other.percent} %; promote or roll it back first`,
      );
    await this.store.transition(
      { modelId, version, state: 'candidate', percent, atMs: this.now() },
      this.decision(modelId, version, 'rollout', release.percent, percent, 'operator', `rollout set to ${percent} %`, null),
    );
    return (await this.store.get(modelId, version))!;
  }

  async promote(
    modelId: string,
    version: string,
    actor: Decision['actor'] = 'operator',
    reason = 'promoted',
    evidence: unknown = null,
  ): Promise<Release> {
    const release = await this.requireRelease(modelId, version);
    if (release.state === 'stable') return release;
    if (release.state !== 'candidate')
      throw new ReleaseError(
        409,
        'NOT_A_CANDIDATE',
        `${modelId} ${version} is ${release.state.replace('_', ' ')}; only a candidate can be promoted`,
      );
    await this.store.transition(
      { modelId, version, state: 'stable', percent: 100, atMs: this.now() },
      this.decision(modelId, version, 'promote', release.percent, 100, actor, reason, evidence),
    );
    return (await this.store.get(modelId, version))!;
  }

  async rollback(
    modelId: string,
    version: string,
    actor: Decision['actor'] = 'operator',
    reason = 'rolled back by the operator',
    evidence: unknown = null,
  ): Promise<Release> {
    const release = await this.requireRelease(modelId, version);
    if (release.state !== 'candidate')
      throw new ReleaseError(
        409,
        'NOT_A_CANDIDATE',
        `${modelId} ${version} is ${release.state.replace('_', ' ')}; only a candidate can be rolled back`,
      );
    const decision = this.decision(modelId, version, 'rollback', release.percent, 0, actor, reason, evidence);
    await this.store.transition({ modelId, version, state: 'rolled_back', percent: 0, atMs: this.now() }, decision);
    if (actor === 'policy') this.options.onRollback?.(decision);
    return (await this.store.get(modelId, version))!;
  }

  /**
   * The version each model serves to `installId`, built with the schema the page reads it with
   * (src/registry/ReleaseManifest.ts): an entry the client would refuse fails here, as a 500, not in the page.
   */
  async manifest(installId: string): Promise<ReleaseManifest> {
    const models: Record<string, unknown> = {};
    for (const id of await this.store.modelIds()) {
      const versions = await this.store.list(id);
      const stable = versions.find((r) => r.state === 'stable');
      if (!stable) continue;
      const candidate = versions.filter((r) => r.state === 'candidate' && r.percent > 0).at(-1);
      const onCandidate = candidate !== undefined && assignBucket(installId, id) < candidate.percent;
      const chosen = onCandidate ? candidate : stable;
      // The registry's copy of this exact file, when it has one (looked up now, so a re-derived copy is served),
      // else the copy derived when the version was published.
      const { optimized: published, ...entry } = chosen.entry;
      const copy = this.copies.get(`${id}@${chosen.version}#${chosen.sha256}`) ?? published;
      models[id] = {
        ...entry,
        ...(copy ? { optimized: copy } : {}),
        stable: stable.version,
        state: onCandidate ? 'candidate' : 'stable',
        rolledBack: versions.filter((r) => r.state === 'rolled_back').map((r) => r.version),
      };
    }
    return v.parse(ReleaseManifestSchema, { models });
  }

  /** Status of every version with its field metrics over the last `windowMs` (receive time). */
  async status(modelId: string, windowMs = DAY_MS) {
    const versions = await this.store.list(modelId);
    if (versions.length === 0) throw new ReleaseError(404, 'NOT_FOUND', `no releases of ${JSON.stringify(modelId)}`);
    const policy = policyFor(this.options.config, modelId);
    const z = zFor(policy.confidence);
    const sinceMs = this.now() - windowMs;
    const decisions = await this.store.decisions(modelId, 200);
    return {
      modelId,
      stable: versions.find((r) => r.state === 'stable')?.version ?? null,
      windowMs,
      policy,
      // Read from the database: the same on every instance, whichever one ran the decision loop.
      lastEvaluation: evaluationOf(await this.store.lastEvaluation(modelId)),
      lastPassAtMs: await this.store.lastPassAtMs(),
      versions: await Promise.all(
        versions.map(async (r) => {
          const ev = evidenceOf(r.version, await this.options.metrics.counts(modelId, r.version, sinceMs, policy.maxFeedbackPerInstall), z);
          return {
            version: r.version,
            state: r.state,
            percent: r.percent,
            publishedMs: r.publishedMs,
            rolloutStartedMs: r.rolloutStartedMs,
            sha256: r.sha256,
            bytes: r.bytes,
            notes: r.notes,
            metrics: r.metrics,
            field: ev,
            lastDecision: decisions.find((d) => d.version === r.version) ?? null,
          };
        }),
      ),
      decisions,
    };
  }

  /** One pass of the policy over every candidate that is rolling out. */
  async evaluate(): Promise<Array<{ modelId: string; version: string; decision: RolloutDecision }>> {
    const out: Array<{ modelId: string; version: string; decision: RolloutDecision }> = [];
    for (const modelId of await this.store.modelIds()) {
      const versions = await this.store.list(modelId);
      const stable = versions.find((r) => r.state === 'stable');
      const candidate = versions.find((r) => r.state === 'candidate' && r.percent > 0 && r.percent < 100);
      if (!stable || !candidate) continue;
      const policy = policyFor(this.options.config, modelId);
      const windowStartMs = candidate.rolloutStartedMs ?? candidate.publishedMs;
      const recent = await this.store.decisions(modelId, 200);
      // A hold changes no percentage: the stage began at the last decision that set this one.
      const lastChange = recent.find((d) => d.version === candidate.version && d.action !== 'hold' && d.toPercent === candidate.percent);
      const stageStartMs = Math.max(windowStartMs, lastChange?.atMs ?? windowStartMs);
      const cap = policy.maxFeedbackPerInstall;
      const stageCounts = await this.options.metrics.counts(modelId, candidate.version, stageStartMs, cap);
      const decision = decideRollout({
        policy,
        percent: candidate.percent,
        candidate: {
          version: candidate.version,
          counts: await this.options.metrics.counts(modelId, candidate.version, windowStartMs, cap),
        },
        stable: { version: stable.version, counts: await this.options.metrics.counts(modelId, stable.version, windowStartMs, cap) },
        stage: { feedback: stageCounts.feedback, inferences: stageCounts.inferences },
        windowStartMs,
        stageStartMs,
      });
      await this.store.saveEvaluation({
        modelId,
        atMs: this.now(),
        version: candidate.version,
        action: decision.action,
        reason: decision.reason,
      });
      if (decision.action === 'hold') {
        // Logged only when what it waits for changes (its numbers move every pass; status shows the latest),
        // so the log stays readable: one line per reason per stage.
        const last = recent.find((d) => d.version === candidate.version);
        const lastBecause = last?.action === 'hold' ? (last.evidence as { because?: string[] } | null)?.because : undefined;
        if (last?.toPercent !== candidate.percent || JSON.stringify(lastBecause) !== JSON.stringify(decision.because))
          await this.store.record(
            this.decision(modelId, candidate.version, 'hold', candidate.percent, candidate.percent, 'policy', decision.reason, {
              ...decision.evidence,
              because: decision.because,
            }),
          );
      } else if (decision.action === 'rollback')
        await this.rollback(modelId, candidate.version, 'policy', decision.reason, decision.evidence);
      else if (decision.action === 'advance' && decision.toPercent === 100)
        await this.promote(modelId, candidate.version, 'policy', decision.reason, decision.evidence);
      else if (decision.action === 'advance')
        await this.store.transition(
          { modelId, version: candidate.version, state: 'candidate', percent: decision.toPercent, atMs: this.now() },
          this.decision(
            modelId,
            candidate.version,
            'advance',
            candidate.percent,
            decision.toPercent,
            'policy',
            decision.reason,
            decision.evidence,
          ),
        );
      out.push({ modelId, version: candidate.version, decision });
    }
    await this.store.savePass(this.now());
    return out;
  }

  private async requireRelease(modelId: string, version: string): Promise<Release> {
    const release = await this.store.get(modelId, version);
    if (!release) throw new ReleaseError(404, 'NOT_FOUND', `${modelId} ${version} is not published`);
    return release;
  }

  private decision(
    modelId: string,
    version: string,
    action: Decision['action'],
    fromPercent: number,
    toPercent: number,
    actor: Decision['actor'],
    reason: string,
    evidence: unknown,
  ): Decision {
    return { modelId, version, atMs: this.now(), action, fromPercent, toPercent, actor, reason, evidence };
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function evaluationOf(e: Evaluation | undefined): { atMs: number; version: string; action: string; reason: string } | null {
  return e ? { atMs: e.atMs, version: e.version, action: e.action, reason: e.reason } : null;
}
