// The shape of one models/registry.json entry, written once as a valibot schema; the types are
// inferred from it. Read by the page (fetched registry), the worker (types) and Node scripts.
import * as v from 'valibot';
import { normalizeLocation, problemWithLocation } from '../core/onnx/dataLocation';
import { SampleHintSchema, type SampleHint } from '../core/schema/SampleHint';
import { got, nonEmptyString, strict, whole } from '../core/schema/schemaMessages';
import { TensorSpecSchema, type TensorSpec } from '../core/schema/TensorSpec';

const ID = /^[a-z0-9][a-z0-9._-]*$/;
const SHA256 = /^[0-9a-f]{64}$/;
// A path relative to the registry: plain segments (no leading dot, so no `..`), no query, no scheme.
// The repository's own registry is stricter (plain names: models:sync puts files side by side), see parseRegistry.
const FILE = /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

const positiveInteger = whole(v.pipe(v.number(), v.safeInteger(), v.minValue(1)), (i) => `expected a positive integer, got ${got(i)}`);
const fileName = whole(
  v.pipe(v.string(), v.regex(FILE)),
  (i) => `expected a relative file path (letters, digits, . _ -; folders with /, no leading dots), got ${got(i)}`,
);
const sha256 = whole(v.pipe(v.string(), v.regex(SHA256)), (i) => `expected 64 lower-case hex digits, got ${got(i)}`);

const repoRelative = v.pipe(
  nonEmptyString,
  v.check((p) => !p.startsWith('/') && !p.split('/').includes('..')),
);

/** Where a file's bytes come from before `models:sync` copies them to `public/models/<file>`. */
export const ModelSourceRefSchema = whole(
  v.union([
    /** A file inside an installed npm package; `license` is the package's own licence. */
    v.strictObject({ package: nonEmptyString, path: nonEmptyString, license: nonEmptyString }),
    /** Written by `npm run models:generate`; `generator` is the module that builds it (repo-relative). */
    v.strictObject({ generator: v.pipe(nonEmptyString, v.startsWith('scripts/onnx/')) }),
    /** A file kept in this repository, e.g. under models/local/ (repo-relative path). */
    v.strictObject({ repoPath: repoRelative }),
    /** Trained in this repository by `trainer` (a script under scripts/); the file is committed under models/trained/. */
    v.strictObject({ trainer: v.pipe(repoRelative, v.startsWith('scripts/')) }),
  ]),
  (i) =>
    `expected {package, path, license}, {generator: "scripts/onnx/…"}, {repoPath} (repo-relative) or {trainer: "scripts/…"}, got ${got(i)}`,
);
export type ModelSourceRef = v.InferOutput<typeof ModelSourceRefSchema>;

/** Items of an array whose `key` repeats, reported once each at the array. */
const uniqueBy = <T>(key: (item: Partial<T> | undefined) => unknown, message: (value: string) => string) =>
  v.rawCheck<T[]>(({ dataset, addIssue }) => {
    // Also on a partly invalid array, so every problem is listed at once.
    if (!Array.isArray(dataset.value)) return;
    const keys = (dataset.value as (Partial<T> | undefined)[]).map(key);
    const repeated = new Set(keys.filter((k, i) => k !== undefined && keys.indexOf(k) !== i));
    for (const k of repeated) addIssue({ message: message(String(k)) });
  });

const tensorSpecs = v.pipe(
  v.array(TensorSpecSchema, 'expected a non-empty array of {name, type, shape}'),
  v.minLength(1, 'expected a non-empty array of {name, type, shape}'),
  uniqueBy(
    (s: Partial<TensorSpec> | undefined) => s?.name,
    (name) => `duplicate name "${name}"`,
  ),
);

/** A non-model file a model needs at run time (e.g. the character list of an OCR recogniser). */
export const AssetEntrySchema = strict(
  {
    /** What the file is to its model, e.g. `keys`. Unique within the model. */
    name: nonEmptyString,
    file: fileName,
    sha256,
    bytes: positiveInteger,
    license: nonEmptyString,
    source: ModelSourceRefSchema,
    description: v.string('expected a string'),
  },
  'an object',
);
export type AssetEntry = v.InferOutput<typeof AssetEntrySchema>;

/**
 * A copy of the model that onnxruntime-node pre-optimised (`npm run models:optimize`): the WASM backend loads it
 * instead of `file`, verified by its own sha256, because it cuts session creation (the graph optimisations are
 * already applied). Derived from `file` by `models:sync`; the original and its verification are unchanged.
 */
export const OptimizedEntrySchema = strict(
  {
    file: fileName,
    sha256,
    bytes: positiveInteger,
    /** Graph optimisation level it was written at; `extended` is the highest that is not specific to one machine. */
    level: v.picklist(['basic', 'extended'], (i) => `expected "basic" or "extended", got ${got(i)}`),
    /** onnxruntime version that wrote it (e.g. `1.30.0`); the worker uses the file only with the same onnxruntime-web version. */
    onnxruntime: v.pipe(nonEmptyString, v.regex(/^\d+\.\d+\.\d+/, 'expected an onnxruntime version like "1.30.0"')),
  },
  '{file, sha256, bytes, level, onnxruntime}',
);
export type OptimizedEntry = v.InferOutput<typeof OptimizedEntrySchema>;

/**
 * One external data file of a model: `location` is the name the model's tensors give it, exactly as written
 * (`model.onnx_data`, `onnx::MatMul_12`, `weights/a.bin`); `file` is where the registry keeps it (under the
 * file-name rules), fetched, verified and stored with the model.
 */
export const DataFileEntrySchema = strict(
  {
    location: whole(
      v.pipe(
        v.string(),
        v.check((l) => problemWithLocation(l) === undefined),
      ),
      (i) =>
        `expected a location inside the model's folder (no NUL or \\, no leading /, no .. segment, at most 255 bytes): ${JSON.stringify(i.input)} ${problemWithLocation(i.input) ?? ''}`.trimEnd(),
    ),
    file: fileName,
    sha256,
    bytes: positiveInteger,
  },
  '{location, file, sha256, bytes}',
);
export type DataFileEntry = v.InferOutput<typeof DataFileEntrySchema>;

/** `totalBytes` is the ONNX file plus every data file (also on a partly invalid entry). */
const totalBytesAddUp = <T extends { bytes: number; totalBytes?: number; externalData?: DataFileEntry[] }>() =>
  v.rawCheck<T>(({ dataset, addIssue }) => {
    const { bytes, totalBytes, externalData } = (dataset.value ?? {}) as Partial<T>;
    const data = Array.isArray(externalData) ? externalData : [];
    if (typeof bytes !== 'number' || data.some((d) => typeof d?.bytes !== 'number')) return;
    const expected = bytes + data.reduce((sum, d) => sum + d.bytes, 0);
    const path = [{ type: 'object', origin: 'value', input: dataset.value, key: 'totalBytes', value: totalBytes }] as [v.IssuePathItem];
    if (totalBytes === undefined && data.length > 0)
      addIssue({ message: `is required with externalData (${expected}: the ONNX file and its data files)`, path });
    else if (totalBytes !== undefined && totalBytes !== expected)
      addIssue({ message: `is ${totalBytes}, but the ONNX file and its data files add up to ${expected}`, path });
  });

/** Sample hints name inputs that exist, and sample dims fit their input's shape (also on a partly invalid entry). */
const sampleFitsInputs = <T extends { inputs: TensorSpec[]; sample?: SampleHint }>() =>
  v.rawCheck<T>(({ dataset, addIssue }) => {
    const { inputs, sample } = (dataset.value ?? {}) as Partial<T>;
    if (typeof sample !== 'object' || sample === null || !Array.isArray(inputs)) return;
    const byName = new Map(inputs.filter((spec) => spec && Array.isArray(spec.shape)).map((spec) => [spec.name, spec]));
    const at = (section: string, name: string) =>
      [
        { type: 'object', origin: 'value', input: dataset.value, key: 'sample', value: sample },
        { type: 'object', origin: 'value', input: sample, key: section, value: undefined },
        { type: 'object', origin: 'value', input: {}, key: name, value: undefined },
      ] as [v.IssuePathItem, ...v.IssuePathItem[]];
    for (const section of ['dims', 'fill', 'range'] as const) {
      const values: unknown = sample[section];
      if (typeof values !== 'object' || values === null) continue;
      for (const [name, value] of Object.entries(values)) {
        const spec = byName.get(name);
        if (!spec) addIssue({ message: `no input is named "${name}"`, path: at(section, name) });
        else if (section === 'dims' && Array.isArray(value)) {
          const fits =
            value.length === spec.shape.length &&
            value.every((d, k) => Number.isSafeInteger(d) && d >= 0 && (typeof spec.shape[k] !== 'number' || spec.shape[k] === d));
          if (!fits)
            addIssue({ message: `${JSON.stringify(value)} does not fit shape ${JSON.stringify(spec.shape)}`, path: at(section, name) });
        }
      }
    }
  });

const ModelEntryFields = strict(
  {
    /** Stable, lower-case id, e.g. `ppocr-v4-det`. */
    id: whole(v.pipe(v.string(), v.regex(ID)), 'expected a lower-case id like "ppocr-v4-det"'),
    version: nonEmptyString,
    /** File name under `public/models/` (no folders). */
    file: fileName,
    /** Lower-case hex sha256 of the file. */
    sha256,
    /** Size of the ONNX file alone. */
    bytes: positiveInteger,
    /** The external data files the model's tensors name (absent: everything is inside `file`). */
    externalData: v.exactOptional(
      v.pipe(
        v.array(DataFileEntrySchema, 'expected an array of {location, file, sha256, bytes}'),
        uniqueBy(
          (d: Partial<DataFileEntry> | undefined) => (typeof d?.location === 'string' ? normalizeLocation(d.location) : undefined),
          (location) => `location "${location}" is listed twice`,
        ),
        uniqueBy(
          (d: Partial<DataFileEntry> | undefined) => d?.file,
          (file) => `file "${file}" is listed twice`,
        ),
      ),
    ),
    /** The ONNX file plus every data file, in bytes: what quota, memory and `LoadInfo.bytes` count. */
    totalBytes: v.exactOptional(positiveInteger),
    /** SPDX licence of the model itself (weights); a package source records the package's licence. */
    license: nonEmptyString,
    source: ModelSourceRefSchema,
    /** What the model does, e.g. `text-detection`, `voice-activity-detection`. */
    task: nonEmptyString,
    description: v.string('expected a string'),
    inputs: tensorSpecs,
    outputs: tensorSpecs,
    sample: v.exactOptional(SampleHintSchema),
    optimized: v.exactOptional(OptimizedEntrySchema),
    assets: v.exactOptional(
      v.pipe(
        v.array(AssetEntrySchema, 'expected an array'),
        uniqueBy(
          (a: Partial<AssetEntry> | undefined) => a?.name,
          (name) => `duplicate asset name "${name}"`,
        ),
      ),
    ),
  },
  'an object',
);
export const ModelEntrySchema = v.pipe(
  ModelEntryFields,
  sampleFitsInputs<v.InferOutput<typeof ModelEntryFields>>(),
  totalBytesAddUp<v.InferOutput<typeof ModelEntryFields>>(),
);
export type ModelEntry = v.InferOutput<typeof ModelEntrySchema>;
