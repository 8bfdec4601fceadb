// The encoder lives in src/node/onnx/ (library code in src/retrain/ writes trained models with it);
// the generators here keep their import path.
export * from '../../src/node/onnx/encodeModel';
