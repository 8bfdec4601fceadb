// The public API of ondevice. Everything not re-exported here is internal.
export { loadModel, type LoadModelOptions } from './client/loadModel';
export { Model, type RunOptions } from './client/Model';
export { OnDeviceError, ERROR_CODES, type ErrorCode, isOnDeviceError } from './client/OnDeviceError';
export { configure, type OnDeviceConfig } from './client/configure';
export { fetchRegistry, type RegistryEntry, type ModelInput } from './client/resolveSource';
export type { Backend, BackendPreference, ElementType, Feeds, Progress, TensorData, TensorSpec, LoadInfo } from './runtime/protocol';
export { defineOnDeviceModelElement, type OnDeviceModelElement, type OnDeviceModelElementEventMap } from './embed/OnDeviceModelElement';
export { testing as __testing } from './client/testing';
