import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import type { TensorSpec } from '../core/schema/TensorSpec';
import { OnDeviceError } from '../core/OnDeviceError';
import { normalizeLocation } from '../core/onnx/dataLocation';
import { HttpError } from '../http/HttpError';
import { assignBucket } from './assignBucket';
import { decideRollout, evidenceOf, type RolloutDecision } from './decideRollout';
import { zFor } from './intervals';
import { MissingObjectsError } from './ObjectStore';
import { parsePublishRequest, type PublishLimits, type PublishRequest } from './PublishRequest';
import { MODEL_FILE_NAME, type AssembledSet, type ReleaseFileCache } from './ReleaseFileCache';
import type { FeaturesVariant } from './deriveFeaturesVariant';
import { releaseBytesUrl, releaseFeaturesUrl, releaseFileUrl, releaseOptimizedUrl } from './releaseIds';
import type { ReleaseTrainable } from '../registry/ReleaseManifest';
import type { TrainableSpec } from '../registry/ModelEntry';
import type { Decision, Evaluation, PublishedEntry, Release, ReleaseStore } from './ReleaseStore';
import { writeObject, type WrittenObject } from './writeObject';
import type { ModelEntry } from '../registry/ModelEntry';
import { ReleaseManifestSchema, type ReleaseManifest } from '../registry/ReleaseManifest';
import { policyFor, type RolloutConfig } from './rolloutPolicy';
import { signatureIncompatibilities } from './signatureIncompatibilities';
import type { VersionMetricsSource } from './VersionMetrics';

/**
 * A publish whose model work passed a sandbox limit, or killed its sandbox process, is refused as 422
 * MODEL_LOAD_FAILED with `details.reason` ('TIMEOUT' | 'MEMORY' | 'CRASHED') and the limit it passed.
 */
function sandboxRefusal(error: unknown): HttpError | undefined {
  if (!(error instanceof OnDeviceError)) return undefined;
  const { reason, limitMs, limitBytes } = error.details;
  if (reason !== 'TIMEOUT' && reason !== 'MEMORY' && error.code !== 'WORKER_CRASHED') return undefined;
  const details = reason === 'TIMEOUT' ? { reason, limitMs } : reason === 'MEMORY' ? { reason, limitBytes } : { reason: 'CRASHED' };
  return new HttpError(422, 'MODEL_LOAD_FAILED', error.message, { details: { details } });
}

export interface ReleaseServiceOptions {
  store: ReleaseStore;
  metrics: VersionMetricsSource;
  config: RolloutConfig;
  /** The release files on this server's disk, where the checks read them. */
  files: ReleaseFileCache;
  limits: PublishLimits;
  /**
   * Checks an assembled set as one model and reads its signature, in a child process (publishTasks `inspect`):
   * an OnDeviceError refuses the publish with its code.
   */
  inspect: (
    set: AssembledSet,
    dataFiles: ReadonlyArray<{ location: string; bytes: number }>,
    label: string,
  ) => Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }>;
  /**
   * Writes the pre-optimised copy of a single-file set to `to` and checks its outputs against the original's, in
   * a child process (deriveOptimizedCopy). Omitted: versions are published without a copy. A copy that cannot be
   * derived never fails the publish: the version is published without one.
   */
  deriveOptimized?: (
    set: AssembledSet,
    to: string,
    release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  ) => Promise<{ onnxruntime: string }>;
  /**
   * Derives a trainable version's features variant (deriveFeaturesVariant: the head found, `features` added as an
   * output, checked with onnxruntime-node); injectable for tests. Omitted: no version is trainable.
   */
  deriveFeatures?: (
    bytes: Uint8Array,
    spec: TrainableSpec,
    release: { id: string; version: string; inputs: TensorSpec[]; sample?: unknown },
  ) => Promise<FeaturesVariant>;
  /** The bytes of a seeded registry file (`file` under the models folder): read to derive a trainable seed's variant. */
  readSeedBytes?: (file: string) => Promise<Uint8Array>;
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
  // The last evaluation per model and when the decision loop last finished a pass are kept in the store
  // (saveEvaluation, lastEvaluation, lastPassAtMs), so every instance on a shared database shows them.

  /** Pre-optimised copies of registry versions (registry `optimized`), by `id@version#sha256`: served in the manifest. */
  private readonly copies = new Map<string, NonNullable<ReleaseManifest['models'][string]['optimized']>>();
  /** Features variants of trainable registry versions (derived when seeded, kept here), by `id@version#sha256`. */
  private readonly seededVariants = new Map<string, { trainable: ReleaseTrainable; bytes: Uint8Array }>();
  /** What went wrong while seeding (a trainable entry whose variant could not be derived); the caller logs it. */
  readonly seedWarnings: string[] = [];

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
    for (const e of entries) {
      const spec = e.trainable as TrainableSpec | undefined;
      if (!spec || !this.options.deriveFeatures || !this.options.readSeedBytes) continue;
      try {
        const bytes = await this.options.readSeedBytes(e.file);
        const derived = await this.deriveTrainable(bytes, spec, { ...(e as unknown as PublishedEntry), url: `/models/${e.file}` });
        this.seededVariants.set(`${e.id}@${e.version}#${e.sha256}`, { trainable: derived.trainable, bytes: derived.bytes });
      } catch (error) {
        this.seedWarnings.push(`${e.id}@${e.version} is not trainable: ${(error as Error).message}`);
      }
    }
    const known = new Set(await this.store.modelIds());
    const firstPerModel = new Map<string, (typeof entries)[number]>();
    for (const e of entries) if (!firstPerModel.has(e.id)) firstPerModel.set(e.id, e);
    for (const e of firstPerModel.values()) {
      if (known.has(e.id)) continue;
      const { source: _source, optimized: _optimized, trainable: _trainable, externalData, ...fields } = e;
      // A registry model's data files are served beside it under /models/, each by its registry file name.
      const data = Array.isArray(externalData)
        ? {
            externalData: (externalData as Array<{ location: string; file: string; sha256: string; bytes: number }>).map((d) => ({
              location: d.location,
              url: `/models/${d.file}`,
              sha256: d.sha256,
              bytes: d.bytes,
            })),
          }
        : {};
      const entry = { ...fields, ...data, url: `/models/${e.file}` } as unknown as PublishedEntry;
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
   * Store the bytes `source` yields as one release file (PUT /v1/uploads/{sha256}, a single-body publish),
   * streamed: in chunks into the database and beside it on this server's disk (ReleaseFileCache), hashed as
   * they come. `sha256`, when given, is what they must hash to (422 INTEGRITY_MISMATCH, nothing kept).
   */
  async receiveFile(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, sha256?: string): Promise<WrittenObject> {
    const scratch = this.options.files.scratchPath();
    const written = await writeObject(this.store.objects, source, {
      sha256,
      maxBytes: this.options.limits.maxFileBytes,
      copyTo: scratch,
      now: this.now,
    });
    await this.options.files.keep(scratch, written.sha256);
    return written;
  }

  /**
   * Publish `bytes` (one ONNX file with no external data, e.g. a retrained model) as `version` of `modelId`:
   * stored as a release file, then published as publishFiles does.
   */
  async publish(input: {
    modelId: string;
    version: string;
    bytes: Uint8Array;
    notes?: string;
    metrics?: unknown;
    breaking?: boolean;
    /**
     * The version's trainable head: tensor names, or `null` for none. Default: the stable version's, when the new
     * bytes still have that head (then a failure only leaves the version untrainable, said in `trainableError`).
     */
    trainable?: TrainableSpec | null;
  }): Promise<Release & { optimizedError?: string; trainableError?: string }> {
    const { bytes, ...rest } = input;
    if (await this.store.get(input.modelId, input.version))
      throw new HttpError(409, 'VERSION_EXISTS', `${input.modelId} ${input.version} is already published`);
    const { sha256, bytes: size } = await this.receiveFile([bytes]);
    return this.publishFiles({ ...rest, model: { sha256, bytes: size }, metrics: rest.metrics as Record<string, unknown> | undefined });
  }

  /**
   * Publish a version from its files, already stored (receiveFile): the ONNX file and the external data files
   * its tensors name, at their locations. Checked first without the bytes (parsePublishRequest: shape, sizes;
   * 409 VERSION_EXISTS; 409 FILES_MISSING listing what to upload first), then on the assembled files on disk in
   * a child process (publishTasks `inspect`: the locations the model names are the files listed, no overlaps,
   * every tensor inside its file, onnxruntime-node loads the set), then the signature against the stable
   * version unless `breaking`. The version, its files and the decision are stored in one transaction: a publish
   * that stops anywhere before leaves no version. A new version starts at 0 %; the first version of a model is
   * its stable release. A single-file model gets its pre-optimised copy (`entry.optimized`, served at
   * …/model.extended.onnx) when one can be derived; otherwise, and always for a multi-file model, `optimizedError`
   * says why there is none.
   */
  async publishFiles(
    input: PublishRequest & { modelId: string; version: string; trainable?: TrainableSpec | null },
  ): Promise<Release & { optimizedError?: string; trainableError?: string }> {
    const { modelId, version } = input;
    const request = parsePublishRequest(
      { model: input.model, externalData: input.externalData, notes: input.notes, metrics: input.metrics, breaking: input.breaking },
      this.options.limits,
    );
    if (await this.store.get(modelId, version)) throw new HttpError(409, 'VERSION_EXISTS', `${modelId} ${version} is already published`);
    const listed = [
      { role: 'model' as const, location: '', ...request.model },
      ...(request.externalData ?? []).map((f) => ({ role: 'data' as const, ...f, location: normalizeLocation(f.location) })),
    ];
    const objects = await Promise.all(listed.map((f) => this.store.objects.object(f.sha256)));
    const missing = listed.filter((_, i) => !objects[i]);
    if (missing.length > 0)
      throw new HttpError(
        409,
        'FILES_MISSING',
        `upload ${missing.length} of the version's files first (PUT /v1/uploads/{sha256}), then publish again`,
        {
          details: {
            missing: missing.map((f) => ({
              location: f.role === 'model' ? MODEL_FILE_NAME : f.location,
              sha256: f.sha256,
              bytes: f.bytes,
            })),
          },
        },
      );
    listed.forEach((f, i) => {
      if (objects[i]!.bytes !== f.bytes)
        throw new HttpError(
          400,
          'INVALID_INPUT',
          `${f.role === 'model' ? MODEL_FILE_NAME : f.location} is listed as ${f.bytes} bytes; the uploaded file with its sha256 has ${objects[i]!.bytes}`,
          { details: { location: f.location, sha256: f.sha256 } },
        );
    });
    const data = listed.slice(1).map((f, i) => ({ location: f.location, object: objects[i + 1]! }));
    const set = await this.options.files.assemble(objects[0]!, data);
    try {
      const signature = await this.check(() => this.options.inspect(set, listed.slice(1), `${modelId}@${version}`));
      let derived: Awaited<ReturnType<typeof this.deriveCopy>> | undefined;
      let trainableError: string | undefined;
      // Twice at most: the model's first version is stable only if no other publish got there first (the store
      // decides that in its transaction); one that lost that race is a candidate of the winner, checked against it.
      for (let attempt = 0; ; attempt++) {
        const versions = await this.store.list(modelId);
        const stable = versions.find((r) => r.state === 'stable');
        const problems = stable ? signatureIncompatibilities(stable.entry, signature) : [];
        if (problems.length > 0 && !request.breaking)
          throw new HttpError(
            409,
            'INCOMPATIBLE_SIGNATURE',
            `${modelId} ${version} is not compatible with stable ${stable!.version}: ${problems.join('; ')} (publish with --breaking to accept)`,
            { details: { problems } },
          );
        const base: Record<string, unknown> = stable?.entry ?? {};
        const totalBytes = listed.reduce((sum, f) => sum + f.bytes, 0);
        const entry: PublishedEntry = {
          ...pick(base, ['license', 'task', 'description']),
          id: modelId,
          version,
          file: `releases/${modelId}/${version}/${MODEL_FILE_NAME}`,
          url: releaseBytesUrl(modelId, version),
          sha256: request.model.sha256,
          bytes: request.model.bytes,
          ...(data.length > 0
            ? {
                externalData: listed.slice(1).map((f) => ({
                  location: f.location,
                  url: releaseFileUrl(modelId, version, f.location),
                  sha256: f.sha256,
                  bytes: f.bytes,
                })),
                totalBytes,
              }
            : {}),
          inputs: signature.inputs,
          outputs: signature.outputs,
          // The stable version's sample hint still fits a compatible signature.
          ...(problems.length === 0 && base.sample !== undefined ? { sample: base.sample } : {}),
        };
        derived ??= await this.deriveCopy(set, entry, data.length);
        const { copy, optimizedError } = derived;
        if (copy) entry.optimized = { url: releaseOptimizedUrl(modelId, version), ...copy };
        const inherited = stable ? (await this.trainableOf(modelId, stable.version))?.trainable : undefined;
        const spec =
          input.trainable === null
            ? undefined
            : (input.trainable ?? (inherited && { features: inherited.features, weight: inherited.weight, bias: inherited.bias }));
        let features: { trainable: ReleaseTrainable; sha256: string; bytes: number } | undefined;
        trainableError = undefined;
        if (spec) {
          try {
            if (!this.options.deriveFeatures) throw new Error('this server derives no features variants');
            if (data.length > 0) throw new Error('a model with external data files has no features variant');
            const variant = await this.deriveTrainable(await readFile(set.onnx), spec, entry);
            const written = await this.receiveFile([variant.bytes]);
            features = { trainable: variant.trainable, sha256: written.sha256, bytes: written.bytes };
            entry.trainable = variant.trainable;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            if (input.trainable) throw new HttpError(422, 'NOT_TRAINABLE', `${modelId} ${version}: ${message}`);
            trainableError = `not trainable: ${message}`;
          }
        }
        const first = stable === undefined;
        const atMs = this.now();
        let outcome;
        try {
          outcome = await this.store.publish(
            {
              modelId,
              version,
              sha256: request.model.sha256,
              entry,
              notes: request.notes ?? null,
              metrics: request.metrics ?? null,
              publishedMs: atMs,
              files: [
                ...listed.map(({ role, location, sha256, bytes }) => ({ role, location, sha256, bytes })),
                ...(copy ? [{ role: 'optimized' as const, location: '', sha256: copy.sha256, bytes: copy.bytes }] : []),
                ...(features ? [{ role: 'features' as const, location: '', sha256: features.sha256, bytes: features.bytes }] : []),
              ],
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
                sha256: request.model.sha256,
                bytes: request.model.bytes,
                ...(data.length > 0 ? { files: data.length + 1, totalBytes } : {}),
                breaking: problems.length > 0,
                problems,
                optimized: copy ?? null,
                ...(optimizedError ? { optimizedError } : {}),
                trainable: features ? { features: features.trainable.features, variant: features.sha256 } : null,
                ...(trainableError ? { trainableError } : {}),
              },
            ),
          );
        } catch (error) {
          if (error instanceof MissingObjectsError)
            throw new HttpError(409, 'FILES_MISSING', 'files of the version were removed before it was published: upload them again', {
              details: {
                missing: listed
                  .filter((f) => error.sha256s.includes(f.sha256))
                  .map(({ location, sha256, bytes }) => ({ location, sha256, bytes })),
              },
            });
          throw error;
        }
        if (outcome === 'published') break;
        if (outcome === 'version-exists') throw new HttpError(409, 'VERSION_EXISTS', `${modelId} ${version} is already published`);
        // 'stable-exists' can only answer a stable attempt; the next one is a candidate.
        if (attempt > 0) throw new Error(`${modelId} ${version}: the store refused a candidate as if it were stable`);
      }
      this.options.onKnownVersion?.(modelId, version);
      const release = (await this.store.get(modelId, version))!;
      const optimizedError = derived?.optimizedError;
      return { ...release, ...(optimizedError ? { optimizedError } : {}), ...(trainableError ? { trainableError } : {}) };
    } finally {
      await set.dispose();
    }
  }

  /**
   * A version's trainable head and its features variant's bytes (federated fine-tuning): from its release entry,
   * or for a seeded registry version from what was derived when seeding. Undefined when the version is not trainable.
   */
  async trainableOf(
    modelId: string,
    version: string,
  ): Promise<{ trainable: ReleaseTrainable; variantBytes(): Promise<Uint8Array | undefined> } | undefined> {
    const release = await this.store.get(modelId, version);
    if (!release) return undefined;
    const seeded = this.seededVariants.get(`${modelId}@${version}#${release.sha256}`);
    if (seeded) return { trainable: seeded.trainable, variantBytes: async () => seeded.bytes };
    const trainable = release.entry.trainable as ReleaseTrainable | undefined;
    if (!trainable) return undefined;
    return { trainable, variantBytes: () => this.store.readBlob(trainable.variant.sha256) };
  }

  private async deriveTrainable(
    bytes: Uint8Array,
    spec: TrainableSpec,
    entry: PublishedEntry,
  ): Promise<{ trainable: ReleaseTrainable; bytes: Uint8Array }> {
    const derived = await this.options.deriveFeatures!(bytes, spec, entry);
    const { features, weight, bias, featureCount, classes, output } = derived.head;
    return {
      bytes: derived.bytes,
      trainable: {
        features,
        weight,
        bias,
        featureCount,
        classes,
        output,
        variant: {
          url: releaseFeaturesUrl(entry.id, entry.version),
          sha256: createHash('sha256').update(derived.bytes).digest('hex'),
          bytes: derived.bytes.byteLength,
        },
      },
    };
  }

  /**
   * A published version as a registry entry for /v2 to run: its files are this server's verified disk copies (copied
   * out of the database first when this instance has not seen them), named by their sha256 in one folder, the data
   * files listed with the locations the model names them by (ondevice/node lays them out beside the model). Undefined
   * when the version is not published or keeps no files here (a seeded registry version runs from the registry).
   */
  async servableEntry(modelId: string, version: string): Promise<(ModelEntry & { modelsDir: string }) | undefined> {
    const release = await this.store.get(modelId, version);
    if (!release) return undefined;
    const files = await this.store.files(modelId, version);
    const model = files.find((f) => f.role === 'model');
    if (!model) return undefined;
    const data = files.filter((f) => f.role === 'data');
    const objects = await Promise.all([model, ...data].map((f) => this.store.objects.object(f.sha256)));
    if (objects.some((o) => !o)) throw new Error(`${modelId} ${version}: a file of the version is missing from the store`);
    const paths = await Promise.all(objects.map((o) => this.options.files.ensure(o!)));
    const { url: _url, optimized: _optimized, externalData: _externalData, ...entry } = release.entry;
    return {
      ...({ license: 'unknown', task: 'unknown', description: '' } as const),
      ...(entry as Omit<ModelEntry, 'source' | 'file'>),
      source: { repoPath: `releases/${modelId}/${version}` },
      file: model.sha256,
      ...(data.length > 0
        ? {
            externalData: data.map((f) => ({ location: f.location, file: f.sha256, sha256: f.sha256, bytes: f.bytes })),
            totalBytes: data.reduce((sum, f) => sum + f.bytes, model.bytes),
          }
        : {}),
      modelsDir: path.dirname(paths[0]),
    };
  }

  /**
   * Remove what no version names (ObjectStore.collectGarbage) from the database, then from this server's disk copy.
   */
  async collectGarbage(cutoffs: { writesStartedBeforeMs: number; objectsTouchedBeforeMs: number }) {
    const removed = await this.store.objects.collectGarbage(cutoffs);
    const diskFiles = await this.options.files.prune(await this.store.objects.storedObjects());
    return { ...removed, diskFiles };
  }

  /** Run a check of uploaded files in its sandbox process; what it refuses is a 422 with the check's code. */
  private async check<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof OnDeviceError)) throw e;
      throw (
        sandboxRefusal(e) ??
        new HttpError(422, e.code, e.message, { details: Object.keys(e.details).length > 0 ? { details: e.details } : {} })
      );
    }
  }

  /**
   * The pre-optimised copy of a single-file set, stored as a release file, or why there is none: a copy that
   * cannot be derived never fails the publish. A multi-file model gets none: onnxruntime-node would write its
   * optimised weights as a second copy of the set, and the browser loads a multi-file model from the files it
   * was published with.
   */
  private async deriveCopy(
    set: AssembledSet,
    entry: PublishedEntry,
    dataFiles: number,
  ): Promise<{ copy?: { sha256: string; bytes: number; onnxruntime: string }; optimizedError?: string }> {
    if (!this.options.deriveOptimized) return {};
    if (dataFiles > 0)
      return {
        optimizedError: `no pre-optimised copy: the model keeps its weights in ${dataFiles} external data file${dataFiles === 1 ? '' : 's'}; a copy would repeat them, and the browser loads a multi-file model from the files it was published with`,
      };
    const to = path.join(set.dir, 'model.extended.onnx');
    try {
      const { onnxruntime } = await this.options.deriveOptimized(set, to, entry);
      const written = await this.receiveFile(createReadStream(to));
      return { copy: { sha256: written.sha256, bytes: written.bytes, onnxruntime } };
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
      throw new HttpError(
        409,
        'NOT_A_CANDIDATE',
        `${modelId} ${version} is ${release.state.replace('_', ' ')}; only a candidate can be rolled out`,
      );
    const other = (await this.store.list(modelId)).find((r) => r.state === 'candidate' && r.percent > 0 && r.version !== version);
    if (other && percent > 0)
      throw new HttpError(
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
      throw new HttpError(
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
      throw new HttpError(
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
      const seeded = this.seededVariants.get(`${id}@${chosen.version}#${chosen.sha256}`);
      models[id] = {
        ...entry,
        ...(copy ? { optimized: copy } : {}),
        ...(seeded ? { trainable: seeded.trainable } : {}),
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
    if (versions.length === 0) throw new HttpError(404, 'NOT_FOUND', `no releases of ${JSON.stringify(modelId)}`);
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
    if (!release) throw new HttpError(404, 'NOT_FOUND', `${modelId} ${version} is not published`);
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
