// Types-only: the versions a release server published, as /v2 runs them (src/releases implements it; npm start
// wires the two together).
import type { ModelEntry } from '../registry/ModelEntry';

/** A model /v2 runs: its entry, and the folder its files are in when that is not the registry's folder. */
export type ServableEntry = ModelEntry & { modelsDir?: string };

export interface ReleasedModels {
  /** The stable version of `id`; undefined when the release server has no release of it. */
  stable(id: string): Promise<string | undefined>;
  /**
   * Published version `version` of `id` with its files in a folder on this server's disk (external data beside the
   * ONNX file); undefined when it is not published, or is a registry model's own version (run from the registry).
   */
  entry(id: string, version: string): Promise<ServableEntry | undefined>;
  /** Every published version of `id`, in publish order. */
  versions(id: string): Promise<string[]>;
}
