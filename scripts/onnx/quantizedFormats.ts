// One small model per quantized format a model may arrive in, written with the repository's encoder: what
// onnxruntime's quantizers and LLM exporters emit. `npm run bench -- quantized` loads each in Chromium on WASM and in
// onnxruntime-node and reports which run and how close they come; test/browser/quantizedFormats.test.ts holds the
// formats that must keep working.
import { encodeModel, type ModelSpec, type NodeSpec, type TensorSpecInit } from '../../src/node/onnx/encodeModel';
import { mulberry32 } from '../../src/core/mulberry32';
import type { Feeds } from '../../src/core/protocol';

export interface QuantizedFormat {
  name: string;
  /** What writes it. */
  origin: string;
  bytes: Uint8Array;
  feeds: Feeds;
}

const M = 4;
const K = 64;
const N = 32;

function model(
  name: string,
  nodes: NodeSpec[],
  initializers: TensorSpecInit[],
  input: 'float32' | 'uint8',
  opsets = { ai: 17, ms: 1 },
  ir = 8,
): Uint8Array {
  const spec: ModelSpec = {
    irVersion: ir,
    opsets: [
      { domain: '', version: opsets.ai },
      { domain: 'com.microsoft', version: opsets.ms },
    ],
    producerName: 'ondevice',
    producerVersion: 'scripts/onnx/quantizedFormats',
    graph: {
      name,
      nodes,
      inputs: [{ name: 'x', type: input, shape: [M, K] }],
      outputs: [{ name: 'y', type: input === 'uint8' ? 'uint8' : 'float32', shape: [M, N] }],
      initializers,
    },
  };
  return encodeModel(spec);
}

export function quantizedFormats(): QuantizedFormat[] {
  const random = mulberry32(7);
  const floats = (n: number, scale = 1) => Array.from({ length: n }, () => Math.fround((random() * 2 - 1) * scale));
  const ints = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => lo + Math.floor(random() * (hi - lo + 1)));
  const x: Feeds = { x: { type: 'float32', data: Float32Array.from(floats(M * K)), dims: [M, K] } };
  const xU8: Feeds = { x: { type: 'uint8', data: Uint8Array.from(ints(M * K, 0, 255)), dims: [M, K] } };
  const wScale = 0.01;
  const wInt8 = ints(K * N, -127, 127);
  const scalar = (name: string, type: 'float32' | 'int8' | 'uint8', value: number): TensorSpecInit => ({
    name,
    type,
    dims: [],
    values: [value],
  });

  // 4-bit blocks: per output column n, K/32 blocks of 32 values, two per byte (low nibble first), a scale per block.
  const block = 32;
  const blocks = K / block;
  const nibbles = ints(N * K, 0, 15);
  const packed: number[] = [];
  for (let i = 0; i < nibbles.length; i += 2) packed.push(nibbles[i] | (nibbles[i + 1] << 4));
  const blockScales = floats(N * blocks, 0.02).map(Math.abs);

  return [
    {
      name: 'MatMulInteger + DynamicQuantizeLinear (int8 weights)',
      origin: 'onnxruntime quantize_dynamic (QOperator), before fusion',
      feeds: x,
      bytes: model(
        'dynamic',
        [
          { opType: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
          { opType: 'MatMulInteger', inputs: ['xq', 'w', 'xz', 'wz'], outputs: ['acc'] },
          { opType: 'Cast', inputs: ['acc'], outputs: ['accf'], attributes: { to: { int: 1 } } },
          { opType: 'Mul', inputs: ['xs', 'ws'], outputs: ['s'] },
          { opType: 'Mul', inputs: ['accf', 's'], outputs: ['y'] },
        ],
        [{ name: 'w', type: 'int8', dims: [K, N], values: wInt8 }, scalar('wz', 'int8', 0), scalar('ws', 'float32', wScale)],
        'float32',
      ),
    },
    {
      name: 'DynamicQuantizeMatMul (com.microsoft)',
      origin: "onnxruntime's graph optimizer fuses the above into it",
      feeds: x,
      bytes: model(
        'dqmm',
        [{ opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', inputs: ['x', 'w', 'ws', 'wz'], outputs: ['y'] }],
        [{ name: 'w', type: 'int8', dims: [K, N], values: wInt8 }, scalar('wz', 'int8', 0), scalar('ws', 'float32', wScale)],
        'float32',
      ),
    },
    {
      name: 'QDQ int8 (QuantizeLinear/DequantizeLinear around MatMul)',
      origin: 'onnxruntime quantize_static (QDQ format), most CNN/transformer int8 exports',
      feeds: x,
      bytes: model(
        'qdq',
        [
          { opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
          { opType: 'DequantizeLinear', inputs: ['xq', 'xs', 'xz'], outputs: ['xd'] },
          { opType: 'DequantizeLinear', inputs: ['w', 'ws', 'wz'], outputs: ['wd'] },
          { opType: 'MatMul', inputs: ['xd', 'wd'], outputs: ['y'] },
        ],
        [
          { name: 'w', type: 'int8', dims: [K, N], values: wInt8 },
          scalar('wz', 'int8', 0),
          scalar('ws', 'float32', wScale),
          scalar('xs', 'float32', 1 / 64),
          scalar('xz', 'uint8', 128),
        ],
        'float32',
      ),
    },
    {
      name: 'QLinearMatMul (uint8 in and out)',
      origin: 'onnxruntime quantize_static (QOperator format)',
      feeds: xU8,
      bytes: model(
        'qlinear',
        [{ opType: 'QLinearMatMul', inputs: ['x', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], outputs: ['y'] }],
        [
          { name: 'w', type: 'int8', dims: [K, N], values: wInt8 },
          scalar('xs', 'float32', 1 / 64),
          scalar('xz', 'uint8', 128),
          scalar('ws', 'float32', wScale),
          scalar('wz', 'int8', 0),
          scalar('ys', 'float32', 0.05),
          scalar('yz', 'uint8', 128),
        ],
        'uint8',
      ),
    },
    {
      name: 'MatMulNBits 4-bit, block 32 (com.microsoft)',
      origin: 'onnxruntime-genai / Optimum int4 LLM exports (MatMul4BitsQuantizer)',
      feeds: x,
      bytes: model(
        'nbits',
        [
          {
            opType: 'MatMulNBits',
            domain: 'com.microsoft',
            inputs: ['x', 'b', 'scales'],
            outputs: ['y'],
            attributes: { K: { int: K }, N: { int: N }, bits: { int: 4 }, block_size: { int: block } },
          },
        ],
        [
          { name: 'b', type: 'uint8', dims: [N, blocks, (block * 4) / 8], values: packed },
          { name: 'scales', type: 'float32', dims: [N * blocks], values: blockScales },
        ],
        'float32',
      ),
    },
    {
      name: 'MatMulNBits 8-bit, block 32 (com.microsoft)',
      origin: 'onnxruntime MatMulNBitsQuantizer with bits=8',
      feeds: x,
      bytes: model(
        'nbits8',
        [
          {
            opType: 'MatMulNBits',
            domain: 'com.microsoft',
            inputs: ['x', 'b', 'scales'],
            outputs: ['y'],
            attributes: { K: { int: K }, N: { int: N }, bits: { int: 8 }, block_size: { int: block } },
          },
        ],
        [
          { name: 'b', type: 'uint8', dims: [N, blocks, block], values: ints(N * K, 0, 255) },
          { name: 'scales', type: 'float32', dims: [N * blocks], values: blockScales },
        ],
        'float32',
      ),
    },
    {
      name: 'MatMul with fp16 weights (Cast to fp32)',
      origin: 'fp16 exports run on the CPU (onnxconverter-common keep_io_types)',
      feeds: x,
      bytes: model(
        'fp16',
        [
          { opType: 'Cast', inputs: ['w'], outputs: ['w32'], attributes: { to: { int: 1 } } },
          { opType: 'MatMul', inputs: ['x', 'w32'], outputs: ['y'] },
        ],
        [{ name: 'w', type: 'float16', dims: [K, N], values: floats(K * N, 0.1) }],
        'float32',
      ),
    },
  ];
}
