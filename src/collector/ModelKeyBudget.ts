/** The model id (and version) that events past the budget are stored and counted under. */
export const OTHER_MODEL = '__other__';

export interface ModelKey {
  modelId: string;
  /** null for events without a version (session events). */
  modelVersion: string | null;
}

export interface ModelKeyBudgetOptions {
  /** Distinct model ids per site key beyond the known ones. Default 100. */
  maxModelsPerSite?: number;
  /** Distinct versions per model id and site key beyond the known ones. Default 20. */
  maxVersionsPerModel?: number;
  /** Models that always count: registry entries and published releases (a version of undefined: every version). */
  known?: Iterable<{ modelId: string; modelVersion?: string }>;
}

export type Admission = ModelKey & {
  /** Why the key was folded into `__other__`, if it was. */
  folded: 'model' | 'version' | null;
  /** The key was admitted by this call (persist it with the batch). */
  added: boolean;
};

/**
 * Bounds how many distinct model ids and versions become keys (Prometheus series, summary and
 * dashboard groups, alert series). Client-chosen ids are otherwise unbounded: anyone holding the public
 * site key could mint a series per request. Known models always count; past the budget an event is
 * stored and counted under `modelId: "__other__"` (or `modelVersion: "__other__"` for a version past
 * its model's budget) while its payload keeps what the client sent.
 *
 * @example
 * const budget = new ModelKeyBudget({ maxModelsPerSite: 100, maxVersionsPerModel: 20, known: registry });
 * const key = budget.admit('demo', event.modelId, event.modelVersion ?? null);
 */
export class ModelKeyBudget {
  private readonly maxModels: number;
  private readonly maxVersions: number;
  private readonly knownModels = new Set<string>();
  private readonly knownVersions = new Set<string>();
  /** site → model id → versions, for keys admitted from the budget (known ones are not counted). */
  private readonly sites = new Map<string, Map<string, Set<string>>>();

  constructor(options: ModelKeyBudgetOptions = {}) {
    this.maxModels = options.maxModelsPerSite ?? 100;
    this.maxVersions = options.maxVersionsPerModel ?? 20;
    for (const k of options.known ?? []) this.addKnown(k.modelId, k.modelVersion);
  }

  /** A model (or one version of it) that always counts from now on, e.g. a newly published release. */
  addKnown(modelId: string, modelVersion?: string): void {
    if (modelVersion === undefined) this.knownModels.add(modelId);
    else this.knownVersions.add(versionKey(modelId, modelVersion));
    this.knownModels.add(modelId);
  }

  /** The key an event of `siteKey` is stored under; admits it when the budget has room. */
  admit(siteKey: string, modelId: string, modelVersion: string | null): Admission {
    const known = this.knownModels.has(modelId);
    let models = this.sites.get(siteKey);
    if (!models) this.sites.set(siteKey, (models = new Map()));
    let versions = models.get(modelId);
    let added = false;
    if (!versions) {
      if (!known && this.countedModels(models) >= this.maxModels) {
        return { modelId: OTHER_MODEL, modelVersion: modelVersion === null ? null : OTHER_MODEL, folded: 'model', added: false };
      }
      models.set(modelId, (versions = new Set()));
      added = modelVersion === null;
    }
    if (modelVersion === null || versions.has(modelVersion)) return { modelId, modelVersion, folded: null, added };
    const knownVersion = this.knownVersions.has(versionKey(modelId, modelVersion));
    if (!knownVersion && this.countedVersions(modelId, versions) >= this.maxVersions) {
      return { modelId, modelVersion: OTHER_MODEL, folded: 'version', added };
    }
    versions.add(modelVersion);
    return { modelId, modelVersion, folded: null, added: true };
  }

  /** Undo admissions whose batch did not commit. */
  forget(siteKey: string, keys: Iterable<ModelKey>): void {
    const models = this.sites.get(siteKey);
    if (!models) return;
    for (const k of keys) {
      const versions = models.get(k.modelId);
      if (!versions) continue;
      if (k.modelVersion !== null) versions.delete(k.modelVersion);
      if (versions.size === 0) models.delete(k.modelId);
    }
  }

  /** Whether `modelId` (and `modelVersion`) is a key of some site: used to fold rows kept before the budget existed. */
  isKey(modelId: string, modelVersion: string | null): boolean {
    if (modelId === OTHER_MODEL) return true;
    if (modelVersion !== null && this.knownVersions.has(versionKey(modelId, modelVersion))) return true;
    for (const models of this.sites.values()) {
      const versions = models.get(modelId);
      if (versions && (modelVersion === null || modelVersion === OTHER_MODEL || versions.has(modelVersion))) return true;
    }
    return false;
  }

  private countedModels(models: Map<string, Set<string>>): number {
    let n = 0;
    for (const id of models.keys()) if (!this.knownModels.has(id)) n++;
    return n;
  }

  private countedVersions(modelId: string, versions: Set<string>): number {
    let n = 0;
    for (const v of versions) if (!this.knownVersions.has(versionKey(modelId, v))) n++;
    return n;
  }
}

function versionKey(modelId: string, modelVersion: string): string {
  return `${modelId}\u0000${modelVersion}`;
}
