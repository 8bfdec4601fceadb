// Types of models/registry.json. Types only: the registry is read by the page, the worker and Node scripts.
// ElementType and TensorSpec are the runtime's own (one definition, shared with the worker protocol).
import type { ElementType, TensorSpec } from '../core/protocol';

export type { ElementType, TensorSpec };

/** Where a file's bytes come from before `models:sync` copies them to `public/models/<file>`. */
export type ModelSourceRef =
  /** A file inside an installed npm package; `license` is the package's own licence. */
  | { package: string; path: string; license: string }
  /** Written by `npm run models:generate`; `generator` is the module that builds it (repo-relative). */
  | { generator: string }
  /** A file kept in this repository, e.g. under models/local/ (repo-relative path). */
  | { repoPath: string };

/** Concrete values for demos, warm-up and tests of models with symbolic dims. */
export interface SampleHint {
  /** Concrete dims per input name. */
  dims?: Record<string, number[]>;
  /** A constant per input (e.g. a sample rate, or 0 for an initial recurrent state). */
  fill?: Record<string, number>;
  /** Value range [min, max] per input for generated data (e.g. a normalised image). */
  range?: Record<string, [number, number]>;
}

/** A non-model file a model needs at run time (e.g. the character list of an OCR recogniser). */
export interface AssetEntry {
  /** What the file is to its model, e.g. `keys`. Unique within the model. */
  name: string;
  file: string;
  sha256: string;
  bytes: number;
  license: string;
  source: ModelSourceRef;
  description: string;
}

export interface ModelEntry {
  /** Stable, lower-case id, e.g. `ppocr-v4-det`. */
  id: string;
  version: string;
  /** File name under `public/models/` (no folders). */
  file: string;
  /** Lower-case hex sha256 of the file. */
  sha256: string;
  bytes: number;
  /** SPDX licence of the model itself (weights); a package source records the package's licence. */
  license: string;
  source: ModelSourceRef;
  /** What the model does, e.g. `text-detection`, `voice-activity-detection`. */
  task: string;
  description: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  sample?: SampleHint;
  assets?: AssetEntry[];
}
