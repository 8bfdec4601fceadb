// The telemetry event schema: the one source for the browser client's types and the collector's
// validation, written once in valibot under ./schema/ (one shape per file). Pure TypeScript on
// purpose — it is bundled into pages and workers, so no Node imports and no globals touched at load.
export { LIMITS } from './schema/limits';
export { DeviceInfoSchema, type DeviceInfo, type WebGpuAdapterInfo } from './schema/DeviceInfo';
export {
  EVENT_TYPES,
  TELEMETRY_BACKENDS,
  TelemetryEventSchema,
  OutputSummarySchema,
  type TelemetryEventType,
  type TelemetryBackend,
  type TelemetryEvent,
  type SessionEvent,
  type ModelLoadEvent,
  type OutputSummary,
  type InferenceEvent,
  type ErrorReportEvent,
  type FeedbackEvent,
  type SampleEvent,
} from './schema/TelemetryEvent';
export { SAMPLE_ELEMENT_TYPES, firstBadElement, type SampleElementType, type SampleTensor, type SampleInputs } from './schema/SampleTensor';
export {
  EventBatchSchema,
  checkBatch,
  validateBatch,
  withinClockWindow,
  type EventBatch,
  type BatchCheck,
  type BatchValidation,
  type CheckOptions,
  type BatchRejection,
} from './schema/EventBatch';
export { RejectedEventSchema, type EventRejectionCode, type RejectedEvent } from './schema/RejectedEvent';
