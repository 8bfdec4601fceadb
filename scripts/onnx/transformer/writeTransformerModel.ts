// Transformer-shaped synthetic models at the size a test or benchmark asks for, with their weights in external
// data files (several shards), as real exports over 2 GB are: `onnx.save_model(..., save_as_external_data=True)`.
// Pre-norm blocks (LayerNormalization → single-head attention → residual; LayerNormalization → 4× MLP with Relu
// → residual) and an LM head whose width makes the set the requested size. Weights are seeded uniform noise
// written chunk by chunk, so a 2.5 GB set is written with a few MB of memory.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ElementType } from '../../../src/core/protocol';
import type { TensorSpec } from '../../../src/core/schema/TensorSpec';
import { ONNX_DATA_TYPES, encodeModel, type NodeSpec, type TensorSpecInit } from '../../../src/node/onnx/encodeModel';
import type { ModelEntry } from '../../../src/registry/ModelEntry';
import { GENERATED_IR_VERSION, GENERATED_OPSET, GENERATED_PRODUCER } from '../generatedModel';
import { BYTES_PER_WEIGHT, weightBytes, type WeightPrecision } from './weightBytes';

export interface TransformerOptions {
  /** Folder the model and its data files are written to (created when missing). */
  dir: string;
  /** File stem: `<name>.onnx`. Default `transformer`. */
  name?: string;
  /** Size of the whole set (ONNX file + data files) to aim for; the result is within a few KB of it. */
  bytes: number;
  /** External data files the weights are spread over (≥ 1), or 0 to keep every weight inside the ONNX file (≤ 2 GB). Default 3. */
  shards?: number;
  /** The data files' locations as the model names them (one per shard). Default `<name>.onnx_data` / `<name>-<i>.bin`. */
  locations?: string[];
  /** Weight storage: fp32, fp16 (computes in fp16), or int8 (dynamically quantized MatMulInteger, computes in fp32). Default fp32. */
  precision?: WeightPrecision;
  /** Element type of the input and output: fp32 (default), or fp16 for an fp16 model. */
  io?: 'fp32' | 'fp16';
  /** Width of the residual stream. Default by size: 256 up to 128 MB, 1024 up to 1.5 GB, 2048 above. */
  hidden?: number;
  /** Seed of the weights. Default 1. */
  seed?: number;
}

export interface TransformerFile {
  location: string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface TransformerSet {
  /** Path of the ONNX file. */
  model: string;
  modelBytes: number;
  modelSha256: string;
  /** The external data files, in the order the model first names them. */
  files: TransformerFile[];
  /** ONNX file plus data files. */
  totalBytes: number;
  hidden: number;
  layers: number;
  vocab: number;
  precision: WeightPrecision;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

const DATA = ONNX_DATA_TYPES;

/**
 * Write a transformer-shaped model of about `bytes` with its weights in `shards` external data files.
 *
 * @example
 * const set = writeTransformerModel({ dir: tmp, bytes: 24e6, shards: 3, precision: 'fp16' })
 * // set.model = tmp/transformer.onnx; set.files = [{ location: 'transformer-1.bin', bytes, sha256, … }, …]
 */
export function writeTransformerModel(options: TransformerOptions): TransformerSet {
  const name = options.name ?? 'transformer';
  const precision = options.precision ?? 'fp32';
  const shards = options.shards ?? 3;
  const io = options.io ?? 'fp32';
  if (io === 'fp16' && precision !== 'fp16') throw new Error('fp16 input and output need precision fp16');
  if (!Number.isInteger(shards) || shards < 0) throw new Error(`shards must be an integer >= 0, got ${shards}`);
  const hidden = options.hidden ?? (options.bytes <= 128e6 ? 256 : options.bytes <= 1.5e9 ? 1024 : 2048);
  const bpp = BYTES_PER_WEIGHT[precision];
  const layerBytes = 12 * hidden * hidden * bpp;
  const minHead = 16 * hidden * bpp;
  const seed = options.seed ?? 1;
  const locations =
    options.locations ?? (shards === 1 ? [`${name}.onnx_data`] : Array.from({ length: shards }, (_, i) => `${name}-${i + 1}.bin`));
  if (shards > 0 && locations.length !== shards) throw new Error(`${shards} shards need ${shards} locations, got ${locations.length}`);
  const ioType: ElementType = io === 'fp16' ? 'float16' : 'float32';
  const encode = (graph: ReturnType<typeof buildGraph>, layers: number, vocab: number, external: boolean) =>
    encodeModel({
      irVersion: GENERATED_IR_VERSION,
      opsets: [{ domain: '', version: GENERATED_OPSET }],
      ...GENERATED_PRODUCER,
      docString: `Synthetic ${precision} transformer: ${layers} layers, width ${hidden}, head ${vocab} (scripts/onnx/transformer).`,
      graph: {
        name: 'transformer',
        nodes: graph.nodes,
        inputs: [{ name: 'input', type: ioType, shape: ['batch', 'sequence', hidden] }],
        outputs: [{ name: 'logits', type: ioType, shape: ['batch', 'sequence', vocab] }],
        initializers: [
          ...graph.inline,
          ...graph.weights.map((w): TensorSpecInit => {
            const length = w.count * BYTES_PER_WEIGHT[w.precision];
            if (external)
              return { name: w.name, type: w.type, dims: w.dims, external: w.external ?? { location: locations[0], offset: 0, length } };
            return { name: w.name, type: w.type, dims: w.dims, raw: concat([...weightBytes(w.count, w.precision, w.limit, w.seed)]) };
          }),
        ],
      },
    });
  // The ONNX file itself (graph, small inline tensors) grows with the layers; the LM head takes what is left.
  const onnxBytesFor = (layers: number) =>
    encode(buildGraph({ hidden, layers, vocab: 16, precision, io, seed }), layers, 16, true).byteLength;
  const [one, two] = [onnxBytesFor(1), onnxBytesFor(2)];
  const layers = Math.max(1, Math.floor((options.bytes - (2 * one - two) - minHead) / (layerBytes + two - one)));
  const vocab = Math.max(16, Math.floor((options.bytes - onnxBytesFor(layers) - layers * layerBytes) / (hidden * bpp)));
  const graph = buildGraph({ hidden, layers, vocab, precision, io, seed });

  mkdirSync(options.dir, { recursive: true });
  const files = shards > 0 ? writeShards(options.dir, graph.weights, locations) : [];
  const bytes = encode(graph, layers, vocab, shards > 0);
  const inputs: TensorSpec[] = [{ name: 'input', type: ioType, shape: ['batch', 'sequence', hidden] }];
  const outputs: TensorSpec[] = [{ name: 'logits', type: ioType, shape: ['batch', 'sequence', vocab] }];
  const model = join(options.dir, `${name}.onnx`);
  writeFileSync(model, bytes);
  const modelSha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    model,
    modelBytes: bytes.byteLength,
    modelSha256,
    files,
    totalBytes: bytes.byteLength + files.reduce((sum, f) => sum + f.bytes, 0),
    hidden,
    layers,
    vocab,
    precision,
    inputs,
    outputs,
  };
}

/** A registry entry for a written set (files named by their locations, which must then be plain file names). */
export function transformerEntry(set: TransformerSet, fields: { id: string; version?: string; file?: string }): ModelEntry {
  return {
    id: fields.id,
    version: fields.version ?? '1',
    file: fields.file ?? set.model.split('/').pop()!,
    sha256: set.modelSha256,
    bytes: set.modelBytes,
    ...(set.files.length > 0
      ? {
          externalData: set.files.map((f) => ({ location: f.location, file: f.location, sha256: f.sha256, bytes: f.bytes })),
          totalBytes: set.totalBytes,
        }
      : {}),
    license: 'MIT',
    source: { generator: 'scripts/onnx/transformer/writeTransformerModel.ts' },
    task: 'test',
    description: `Synthetic ${set.precision} transformer, ${set.layers} layers of width ${set.hidden}, ${set.files.length} data files.`,
    inputs: set.inputs,
    outputs: set.outputs,
    sample: { dims: { input: [1, 4, set.hidden] } },
  };
}

interface Weight {
  name: string;
  type: Exclude<ElementType, 'string'>;
  dims: number[];
  count: number;
  precision: WeightPrecision;
  limit: number;
  seed: number;
  external?: { location: string; offset: number; length: number };
}

/** Spread the weights over the shards by size, in order (a tensor is never split), writing each shard and hashing it as it goes. */
function writeShards(dir: string, weights: Weight[], locations: string[]): TransformerFile[] {
  const total = weights.reduce((sum, w) => sum + w.count * BYTES_PER_WEIGHT[w.precision], 0);
  const share = total / locations.length;
  const files: TransformerFile[] = [];
  let next = 0;
  for (const [i, location] of locations.entries()) {
    const path = join(dir, location);
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    const hash = createHash('sha256');
    let offset = 0;
    try {
      const last = i === locations.length - 1;
      // Each shard takes tensors until it holds its share; the last takes the rest; every shard gets at least one.
      while (
        next < weights.length &&
        (last || offset === 0 || offset + (weights[next].count * BYTES_PER_WEIGHT[weights[next].precision]) / 2 <= share)
      ) {
        if (!last && weights.length - next <= locations.length - 1 - i) break;
        const w = weights[next++];
        const length = w.count * BYTES_PER_WEIGHT[w.precision];
        w.external = { location, offset, length };
        for (const chunk of weightBytes(w.count, w.precision, w.limit, w.seed)) {
          writeSync(fd, chunk);
          hash.update(chunk);
        }
        offset += length;
      }
    } finally {
      closeSync(fd);
    }
    if (offset === 0) throw new Error(`shard ${location} got no tensor: ask for fewer shards`);
    files.push({ location, path, bytes: offset, sha256: hash.digest('hex') });
  }
  return files;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

interface Layout {
  hidden: number;
  layers: number;
  vocab: number;
  precision: WeightPrecision;
  io: 'fp32' | 'fp16';
  seed: number;
}

/** The graph: nodes, small inline initializers, and the big weights (placed by the caller). */
function buildGraph({ hidden, layers, vocab, precision, io, seed }: Layout) {
  const compute: 'float32' | 'float16' = precision === 'fp16' ? 'float16' : 'float32';
  const nodes: NodeSpec[] = [];
  const inline: TensorSpecInit[] = [];
  const weights: Weight[] = [];
  const constant = (name: string, type: 'float32' | 'float16' | 'int8', dims: number[], values: number[]) => {
    inline.push({ name, type, dims, values });
    return name;
  };
  const quantized = new Map<string, [string, string, string]>();
  /** x · W for a weight W [inDim, outDim]; int8 as onnxruntime's quantize_dynamic writes it. */
  const linear = (x: string, name: string, inDim: number, outDim: number): string => {
    const limit = 1 / Math.sqrt(inDim);
    const weight: Weight = {
      name: precision === 'int8' ? `${name}_quantized` : name,
      type: precision === 'int8' ? 'int8' : compute,
      dims: [inDim, outDim],
      count: inDim * outDim,
      precision,
      limit,
      seed: seed * 1_000_003 + weights.length,
    };
    weights.push(weight);
    if (precision !== 'int8') {
      nodes.push({ opType: 'MatMul', inputs: [x, weight.name], outputs: [`${name}_out`] });
      return `${name}_out`;
    }
    let q = quantized.get(x);
    if (!q) {
      q = [`${x}_quantized`, `${x}_scale`, `${x}_zero_point`];
      nodes.push({ opType: 'DynamicQuantizeLinear', inputs: [x], outputs: q });
      quantized.set(x, q);
    }
    const scale = constant(`${name}_scale`, 'float32', [], [limit / 127]);
    const zeroPoint = constant(`${name}_zero_point`, 'int8', [], [0]);
    nodes.push({ opType: 'MatMulInteger', inputs: [q[0], weight.name, q[2], zeroPoint], outputs: [`${name}_out_int32`] });
    nodes.push({
      opType: 'Cast',
      inputs: [`${name}_out_int32`],
      outputs: [`${name}_out_float`],
      attributes: { to: { int: DATA.float32 } },
    });
    nodes.push({ opType: 'Mul', inputs: [q[1], scale], outputs: [`${name}_scales`] });
    nodes.push({ opType: 'Mul', inputs: [`${name}_out_float`, `${name}_scales`], outputs: [`${name}_out`] });
    return `${name}_out`;
  };
  const layerNorm = (x: string, name: string): string => {
    const scale = constant(`${name}.weight`, compute, [hidden], Array(hidden).fill(1));
    const bias = constant(`${name}.bias`, compute, [hidden], Array(hidden).fill(0));
    nodes.push({
      opType: 'LayerNormalization',
      inputs: [x, scale, bias],
      outputs: [`${name}_out`],
      attributes: { axis: { int: -1 }, epsilon: { float: 1e-5 } },
    });
    return `${name}_out`;
  };
  const add = (a: string, b: string, out: string) => (nodes.push({ opType: 'Add', inputs: [a, b], outputs: [out] }), out);

  let x = 'input';
  if (io === 'fp32' && compute === 'float16') {
    nodes.push({ opType: 'Cast', inputs: ['input'], outputs: ['input_fp16'], attributes: { to: { int: DATA.float16 } } });
    x = 'input_fp16';
  }
  const attentionScale = constant('attention_scale', compute, [], [1 / Math.sqrt(hidden)]);
  for (let l = 0; l < layers; l++) {
    const p = `layers.${l}`;
    const n1 = layerNorm(x, `${p}.ln1`);
    const q = linear(n1, `${p}.attn.q_proj.weight`, hidden, hidden);
    const k = linear(n1, `${p}.attn.k_proj.weight`, hidden, hidden);
    const v = linear(n1, `${p}.attn.v_proj.weight`, hidden, hidden);
    nodes.push({ opType: 'Transpose', inputs: [k], outputs: [`${p}.attn.k_t`], attributes: { perm: { ints: [0, 2, 1] } } });
    nodes.push({ opType: 'MatMul', inputs: [q, `${p}.attn.k_t`], outputs: [`${p}.attn.scores`] });
    nodes.push({ opType: 'Mul', inputs: [`${p}.attn.scores`, attentionScale], outputs: [`${p}.attn.scaled`] });
    nodes.push({ opType: 'Softmax', inputs: [`${p}.attn.scaled`], outputs: [`${p}.attn.probs`], attributes: { axis: { int: -1 } } });
    nodes.push({ opType: 'MatMul', inputs: [`${p}.attn.probs`, v], outputs: [`${p}.attn.mixed`] });
    const o = linear(`${p}.attn.mixed`, `${p}.attn.o_proj.weight`, hidden, hidden);
    x = add(x, o, `${p}.residual1`);
    const n2 = layerNorm(x, `${p}.ln2`);
    const up = linear(n2, `${p}.mlp.up_proj.weight`, hidden, 4 * hidden);
    nodes.push({ opType: 'Relu', inputs: [up], outputs: [`${p}.mlp.act`] });
    const down = linear(`${p}.mlp.act`, `${p}.mlp.down_proj.weight`, 4 * hidden, hidden);
    x = add(x, down, `${p}.residual2`);
  }
  const final = layerNorm(x, 'ln_f');
  const logits = linear(final, 'lm_head.weight', hidden, vocab);
  if (io === 'fp32' && compute === 'float16') {
    nodes.push({ opType: 'Cast', inputs: [logits], outputs: ['logits'], attributes: { to: { int: DATA.float32 } } });
  } else nodes.push({ opType: 'Identity', inputs: [logits], outputs: ['logits'] });
  return { nodes, inline, weights };
}
