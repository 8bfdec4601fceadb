// The release manifest (`GET /v1/manifest?install=<installId>`): for each model, the registry entry of the
// version this install is assigned, written once as a valibot schema; the types are inferred from it.
// The page reads it (src/client/resolveRelease.ts); the server writes it (src/releases/).
import * as v from 'valibot';
import { problemWithLocation } from '../core/onnx/dataLocation';
import { ownRecord } from '../core/schema/ownRecord';
import { SampleHintSchema } from '../core/schema/SampleHint';
import { TensorSpecSchema } from '../core/schema/TensorSpec';

const nonEmptyString = v.pipe(v.string(), v.minLength(1));

/** One model's assignment: a registry entry (plus `url`, an absolute path of the immutable bytes) and its release state. */
export const ReleaseEntrySchema = v.object({
  id: nonEmptyString,
  version: nonEmptyString,
  url: nonEmptyString,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  bytes: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  /** The version's external data files (registry `externalData`), each with an absolute path of its immutable bytes. */
  externalData: v.optional(
    v.array(
      v.object({
        location: v.pipe(
          v.string(),
          v.check((l) => problemWithLocation(l) === undefined, 'expected a location inside the model folder'),
        ),
        url: nonEmptyString,
        sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
        bytes: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
      }),
    ),
  ),
  /** The ONNX file plus every data file. */
  totalBytes: v.optional(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
  inputs: v.array(TensorSpecSchema),
  outputs: v.array(TensorSpecSchema),
  sample: v.optional(SampleHintSchema),
  /** The version every install not in the candidate's rollout runs. */
  stable: nonEmptyString,
  /** Whether `version` is the stable one or a candidate being rolled out to a share of installs. */
  state: v.picklist(['stable', 'candidate']),
  /** Versions rolled back: never served to anyone again. */
  rolledBack: v.array(nonEmptyString),
  /** The version's pre-optimised copy for the WASM backend (registry `optimized`; `url` absolute on this server). */
  optimized: v.optional(
    v.object({
      url: nonEmptyString,
      sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
      bytes: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
      onnxruntime: nonEmptyString,
    }),
  ),
});
export type ReleaseEntry = v.InferOutput<typeof ReleaseEntrySchema>;

// ownRecord, not v.record: a model may be called `constructor`.
export const ReleaseManifestSchema = v.object({ models: ownRecord(v.string(), ReleaseEntrySchema) });
export type ReleaseManifest = v.InferOutput<typeof ReleaseManifestSchema>;
