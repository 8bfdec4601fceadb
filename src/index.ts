// The public API of ondevice. Everything not re-exported here is internal.
export { loadModel, type LoadModelOptions, type ServerFallbackOptions } from './client/loadModel';
export {
  Model,
  type RunOptions,
  type ModelBackend,
  type ModelLocation,
  type ModelInfo,
  type ModelEventMap,
  type WarmedUpDetail,
} from './client/Model';
export type { RunBatchOptions, BatchResult, BatchProgress } from './client/runBatch';
export { OnDeviceError, ERROR_CODES, type ErrorCode, isOnDeviceError } from './core/OnDeviceError';
export { configure, type OnDeviceConfig } from './client/configure';
export { fetchRegistry, type RegistryEntry, type ModelInput } from './client/resolveSource';
export type {
  Backend,
  BackendPreference,
  ElementType,
  Feeds,
  WebGpuOptions,
  Progress,
  Tensor,
  TensorArray,
  TensorArrayOf,
  TensorData,
  TensorTypes,
  TensorsOf,
  LoadInfo,
  WarmupInputs,
} from './core/protocol';
export type { TensorSpec } from './core/schema/TensorSpec';
export { defineOnDeviceModelElement, type OnDeviceModelElement, type OnDeviceModelElementEventMap } from './embed/OnDeviceModelElement';
export {
  reportFeedback,
  flushTelemetry,
  telemetryStatus,
  type Feedback,
  type TelemetryError,
  type TelemetryStatus,
} from './telemetry/telemetryClient';
export type { TelemetryConfig } from './telemetry/TelemetryConfig';
export type { TelemetryEvent, EventBatch } from './core/eventSchema';
// Offline model store (src/cache).
export { modelStore } from './cache/modelStore';
export type { StoredModelInfo } from './cache/storedModelInfo';
export type { StorageUsage } from './cache/storageUsage';
export type { EvictOptions } from './cache/evictLeastRecentlyUsed';
