import type { ModelEntry } from '../registry/ModelEntry';
import type { SandboxSettings } from '../sandbox';
import { readModelFile, readModelsDir } from './readModelsDir';

/** The servable models: every registry entry, every version it lists (or each .onnx file of a plain folder). */
export class ModelCatalog {
  private constructor(readonly entries: readonly ModelEntry[]) {}

  static async open(modelsDir: string, options: { sandbox?: SandboxSettings; modelFile?: string } = {}): Promise<ModelCatalog> {
    if (options.modelFile !== undefined) return new ModelCatalog(await readModelFile(options.modelFile, options));
    return new ModelCatalog(await readModelsDir(modelsDir, options));
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
