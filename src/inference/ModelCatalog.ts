import type { ModelEntry } from '../registry/ModelEntry';
import { readRegistry } from '../node/readRegistry';

/** The servable models: every registry entry, every version it lists. */
export class ModelCatalog {
  private constructor(readonly entries: readonly ModelEntry[]) {}

  static async open(modelsDir: string): Promise<ModelCatalog> {
    return new ModelCatalog(await readRegistry(modelsDir));
  }

  /** The entry for `id` at `version`, or its newest version; undefined when there is none. */
  find(id: string, version?: string): ModelEntry | undefined {
    const versions = this.entries.filter((e) => e.id === id);
    if (version !== undefined) return versions.find((e) => e.version === version);
    return versions.reduce<ModelEntry | undefined>(
      (newest, e) => (!newest || e.version.localeCompare(newest.version, 'en', { numeric: true }) > 0 ? e : newest),
      undefined,
    );
  }

  versionsOf(id: string): string[] {
    return this.entries.filter((e) => e.id === id).map((e) => e.version);
  }
}
