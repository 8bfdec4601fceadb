import * as v from 'valibot';
import { ERROR_CODES } from '../OnDeviceError';
import { DeviceInfoSchema } from './DeviceInfo';
import { LIMITS } from './limits';
import { SampleInputsSchema } from './SampleTensor';
import { finiteNumber, identifier, integerIn, modelString, wellFormedText } from './safeStrings';

export const EVENT_TYPES = ['session', 'model_load', 'inference', 'error', 'feedback', 'sample'] as const;
export type TelemetryEventType = (typeof EVENT_TYPES)[number];

/** Where an inference ran: in the browser (`webgpu`, `wasm`) or on an ondevice inference server (`server`). */
export const TELEMETRY_BACKENDS = ['webgpu', 'wasm', 'server'] as const;
export type TelemetryBackend = (typeof TELEMETRY_BACKENDS)[number];

const MIN_EVENT_ID_LENGTH = 8;

const oneOf = <const T extends readonly string[]>(values: T) => v.picklist(values, `must be one of ${values.join(', ')}`);

const common = {
  /** Unique event id (uuid or ulid); the collector dedupes on it. */
  id: identifier(LIMITS.maxIdLength, MIN_EVENT_ID_LENGTH),
  /** Client clock, ms since epoch: informational; the collector windows by its own receive time. */
  ts: integerIn(LIMITS.minTsMs, LIMITS.maxTsMs),
  installId: identifier(LIMITS.maxIdLength),
  sessionId: identifier(LIMITS.maxIdLength),
  modelId: modelString(LIMITS.maxModelIdLength),
};
const modelVersion = modelString(LIMITS.maxModelVersionLength);
const backend = oneOf(TELEMETRY_BACKENDS);
const durationMs = finiteNumber(0, LIMITS.maxDurationMs);
const classLabel = v.union(
  [v.pipe(v.number(), v.safeInteger()), v.pipe(wellFormedText(LIMITS.maxLabelLength), v.minLength(1, 'must not be empty'))],
  'must be a safe integer or a non-empty, well-formed string',
);

export const SessionEventSchema = v.strictObject({
  type: v.literal('session'),
  ...common,
  modelVersion: v.exactOptional(modelVersion),
  device: DeviceInfoSchema,
});

export const ModelLoadEventSchema = v.strictObject({
  type: v.literal('model_load'),
  ...common,
  modelVersion,
  backend,
  fallbackReason: v.exactOptional(wellFormedText(LIMITS.maxFallbackReasonLength)),
  bytes: integerIn(0, LIMITS.maxModelBytes),
  fromCache: v.boolean('must be a boolean'),
  ms: durationMs,
});

/** A summary of a model output — never the raw input or output tensors. */
export const OutputSummarySchema = v.strictObject({
  topClass: v.exactOptional(classLabel),
  score: v.exactOptional(finiteNumber(-LIMITS.maxAbsScore, LIMITS.maxAbsScore)),
  /** Lets a later `feedback` event refer to this prediction. */
  predictionId: v.exactOptional(identifier(LIMITS.maxIdLength)),
});

const inputDims = v.pipe(
  v.record(
    v.pipe(wellFormedText(LIMITS.maxInputNameLength), v.minLength(1, 'input name must not be empty')),
    v.pipe(v.array(integerIn(0, LIMITS.maxDim), 'must be an array of dims'), v.maxLength(LIMITS.maxRank, `rank at most ${LIMITS.maxRank}`)),
  ),
  v.maxEntries(LIMITS.maxInputs, `at most ${LIMITS.maxInputs} inputs`),
  // A null-prototype record: input names are integrator-chosen and must never shadow Object.prototype.
  v.transform((dims) => Object.assign(Object.create(null) as Record<string, number[]>, dims)),
);

export const InferenceEventSchema = v.strictObject({
  type: v.literal('inference'),
  ...common,
  modelVersion,
  backend,
  ms: durationMs,
  inputDims,
  output: OutputSummarySchema,
});

export const ErrorReportEventSchema = v.strictObject({
  type: v.literal('error'),
  ...common,
  modelVersion,
  code: oneOf(ERROR_CODES),
  message: wellFormedText(LIMITS.maxMessageLength),
});

export const FeedbackEventSchema = v.strictObject({
  type: v.literal('feedback'),
  ...common,
  modelVersion,
  predictionId: identifier(LIMITS.maxIdLength),
  label: classLabel,
  predicted: v.exactOptional(classLabel),
});

const utf8 = new TextEncoder();

/**
 * A model input the user agreed to share (`shareInputs`), labelled: a training sample. Bigger than any
 * other event, so it has its own bound: at most LIMITS.maxSampleBytes as JSON.
 */
export const SampleEventSchema = v.pipe(
  v.strictObject({
    type: v.literal('sample'),
    ...common,
    modelVersion,
    predictionId: identifier(LIMITS.maxIdLength),
    label: classLabel,
    predicted: v.exactOptional(classLabel),
    inputs: SampleInputsSchema,
  }),
  v.check(
    (e) => utf8.encode(JSON.stringify(e)).byteLength <= LIMITS.maxSampleBytes,
    `a sample is at most ${LIMITS.maxSampleBytes} bytes as JSON`,
  ),
);

/** One telemetry event, keyed by `type`. Strict: unknown keys are rejected, never stored. */
export const TelemetryEventSchema = v.variant(
  'type',
  [SessionEventSchema, ModelLoadEventSchema, InferenceEventSchema, ErrorReportEventSchema, FeedbackEventSchema, SampleEventSchema],
  `must be one of ${EVENT_TYPES.join(', ')}`,
);

export type SessionEvent = v.InferOutput<typeof SessionEventSchema>;
export type ModelLoadEvent = v.InferOutput<typeof ModelLoadEventSchema>;
export type OutputSummary = v.InferOutput<typeof OutputSummarySchema>;
export type InferenceEvent = v.InferOutput<typeof InferenceEventSchema>;
export type ErrorReportEvent = v.InferOutput<typeof ErrorReportEventSchema>;
export type FeedbackEvent = v.InferOutput<typeof FeedbackEventSchema>;
export type SampleEvent = v.InferOutput<typeof SampleEventSchema>;
export type TelemetryEvent = v.InferOutput<typeof TelemetryEventSchema>;

// Compile-time guard: the variant covers exactly EVENT_TYPES.
type Uncovered = Exclude<TelemetryEventType, TelemetryEvent['type']> | Exclude<TelemetryEvent['type'], TelemetryEventType>;
const covered: [Uncovered] extends [never] ? true : Uncovered = true;
void covered;
