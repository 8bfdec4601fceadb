// `ondevice/node`: the same loadModel / Model / OnDeviceError on onnxruntime-node.
export { loadModel, type NodeLoadOptions } from './loadModel';
export { Model, type NodeLoadInfo, type NodeRunOptions } from './Model';
export type { NodeModelInput } from './resolveNodeSource';
export { OnDeviceError, ERROR_CODES, isOnDeviceError, type ErrorCode } from '../core/OnDeviceError';
export type { ElementType, Feeds, TensorData } from '../core/protocol';
export type { TensorSpec } from '../core/schema/TensorSpec';
