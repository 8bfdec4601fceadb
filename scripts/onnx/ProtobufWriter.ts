// Moved to src/node/onnx/ with the ONNX encoder; kept so the generators' import path stays.
export { ProtobufWriter } from '../../src/node/onnx/ProtobufWriter';
