// The body of `POST /v1/releases/{model}/{version}/files`: a version published from files uploaded before
// (`PUT /v1/uploads/{sha256}`), written once as a valibot schema; the type is inferred from it.
import * as v from 'valibot';
import { normalizeLocation, problemWithLocation } from '../core/onnx/dataLocation';
import { MODEL_FILE_NAME } from './ReleaseFileCache';
import { HttpError } from '../http/HttpError';

const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits'));
const bytes = v.pipe(v.number(), v.safeInteger(), v.minValue(1, 'expected a positive number of bytes'));

const FileRef = v.strictObject({ sha256, bytes });

export const PublishRequestSchema = v.strictObject({
  /** The ONNX file. */
  model: FileRef,
  /** Its external data files, each at the location the model names it. */
  externalData: v.optional(
    v.array(
      v.strictObject({
        location: v.pipe(
          v.string(),
          v.check(
            (l) => problemWithLocation(l) === undefined,
            (i) => `location ${JSON.stringify(i.input)} ${problemWithLocation(i.input)}`,
          ),
          v.check(
            (l) => normalizeLocation(l).split('/')[0] !== MODEL_FILE_NAME,
            `a data file may not be named ${MODEL_FILE_NAME}: that is the model file's own name in the version`,
          ),
        ),
        sha256,
        bytes,
      }),
    ),
  ),
  notes: v.optional(v.pipe(v.string(), v.maxLength(4000, 'notes: at most 4000 characters'))),
  /** Offline metrics of the version (`--metrics file.json`). */
  metrics: v.optional(v.record(v.string(), v.unknown())),
  /** Accept a signature that is not compatible with the stable version's. */
  breaking: v.optional(v.boolean()),
});
export type PublishRequest = v.InferOutput<typeof PublishRequestSchema>;

/** Limits of one publish: each file, and the whole set. */
export interface PublishLimits {
  /** `ONDEVICE_MAX_PUBLISH_BYTES`. */
  maxFileBytes: number;
  /** `ONDEVICE_MAX_VERSION_BYTES`. */
  maxVersionBytes: number;
}

/**
 * Parse a publish request and check what can be checked without its bytes: the shape (400 INVALID_INPUT at
 * the first problem, with its path), one file per location, and the size limits (413 PUBLISH_TOO_LARGE).
 */
export function parsePublishRequest(body: unknown, limits: PublishLimits): PublishRequest {
  const parsed = v.safeParse(PublishRequestSchema, body);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = v.getDotPath(issue);
    throw new HttpError(400, 'INVALID_INPUT', `${path ? `${path}: ` : ''}${issue.message}`, { path: `$${path ? `.${path}` : ''}` });
  }
  const request = parsed.output;
  const data = request.externalData ?? [];
  const seen = new Set<string>();
  for (const file of data) {
    const location = normalizeLocation(file.location);
    if (seen.has(location))
      throw new HttpError(400, 'INVALID_INPUT', `location "${location}" is listed twice`, {
        path: '$.externalData',
        details: { location },
      });
    seen.add(location);
  }
  for (const file of [{ location: MODEL_FILE_NAME, ...request.model }, ...data])
    if (file.bytes > limits.maxFileBytes)
      throw new HttpError(
        413,
        'PUBLISH_TOO_LARGE',
        `${file.location} is ${file.bytes} bytes, over the ${limits.maxFileBytes}-byte limit per file (ONDEVICE_MAX_PUBLISH_BYTES)`,
        { details: { location: file.location, bytes: file.bytes, limitBytes: limits.maxFileBytes } },
      );
  const total = request.model.bytes + data.reduce((sum, f) => sum + f.bytes, 0);
  if (total > limits.maxVersionBytes)
    throw new HttpError(
      413,
      'PUBLISH_TOO_LARGE',
      `the version's files add up to ${total} bytes, over the ${limits.maxVersionBytes}-byte limit per version (ONDEVICE_MAX_VERSION_BYTES)`,
      { details: { totalBytes: total, limitBytes: limits.maxVersionBytes } },
    );
  return request;
}
