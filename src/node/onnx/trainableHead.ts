import { ProtobufWriter } from './ProtobufWriter';
import { protobufFields, utf8 } from '../../core/onnx/protobufFields';
import { MAX_HEAD_WEIGHTS } from '../../core/schema/FederatedRound';
import { readTensor } from './readInitializers';

/** Which tensors make a model's trainable head (registry and release `trainable`). */
export interface TrainableSpec {
  /** The tensor the head reads: `[N, F]` float32. */
  features: string;
  /** The MatMul's initializer, `[F, C]` float32. */
  weight: string;
  /** The Add's initializer, `[C]` float32. */
  bias: string;
}

/** A head found in a graph, with its current weights. */
export interface TrainableHead extends TrainableSpec {
  /** F: features per example. */
  featureCount: number;
  /** C: classes. */
  classes: number;
  /** The graph output the head ends in (after the optional Softmax). */
  output: string;
  softmax: boolean;
  /** `[F, C]` row-major. */
  weightValues: Float32Array;
  biasValues: Float32Array;
}

interface NodeInfo {
  opType: string;
  inputs: string[];
  outputs: string[];
  domain: string;
  /** The `axis` attribute, when set. */
  axis?: number;
}

/**
 * Finds the head `features[N,F] → MatMul(W[F,C]) → Add(b[C]) → (Softmax) → output` at the end of the graph and
 * reads W and b. Throws with the reason when the model has no such head: the pattern differs, the initializers
 * are missing, not float32, not inline (external data) or of the wrong shape, or an intermediate tensor feeds
 * anything else (then changing W would change more than the head).
 */
export function readTrainableHead(model: Uint8Array, spec: TrainableSpec): TrainableHead {
  const graph = graphOf(model);
  const nodes: NodeInfo[] = [];
  const outputs: string[] = [];
  const initializers = new Map<string, Uint8Array>();
  for (const f of protobufFields(graph)) {
    if (f.field === 1 && f.bytes) nodes.push(readNode(f.bytes));
    else if (f.field === 5 && f.bytes) initializers.set(readTensor(f.bytes).name, f.bytes);
    else if (f.field === 12 && f.bytes) outputs.push(valueInfoName(f.bytes));
  }
  const fail = (why: string): never => {
    throw new Error(`trainable head (${spec.features} → MatMul ${spec.weight} → Add ${spec.bias}): ${why}`);
  };
  const consumers = (name: string) => nodes.filter((n) => n.inputs.includes(name));
  const matmuls = consumers(spec.features).filter((n) => n.opType === 'MatMul' && n.inputs[0] === spec.features);
  const matmul = matmuls.find((n) => n.inputs[1] === spec.weight) ?? fail(`no MatMul(${spec.features}, ${spec.weight}) node`);
  const product = matmul.outputs[0];
  const productUsers = consumers(product);
  if (outputs.includes(product) || productUsers.length !== 1) fail(`the MatMul's output ${product} must feed the Add alone`);
  const add = productUsers[0];
  if (add.opType !== 'Add' || !add.inputs.includes(spec.bias) || add.inputs.length !== 2)
    fail(`the MatMul's output must go to Add(${product}, ${spec.bias})`);
  const logits = add.outputs[0];
  const logitUsers = consumers(logits);
  let output = logits;
  let softmax = false;
  if (logitUsers.length === 1 && logitUsers[0].opType === 'Softmax' && !outputs.includes(logits)) {
    const axis = logitUsers[0].axis ?? -1;
    if (axis !== -1 && axis !== 1) fail(`the Softmax must be over the last axis (axis ${axis})`);
    softmax = true;
    output = logitUsers[0].outputs[0];
    if (consumers(output).length > 0) fail(`the Softmax's output ${output} must be a graph output and feed nothing else`);
  } else if (logitUsers.length > 0) fail(`the Add's output ${logits} must be a graph output or go to one Softmax alone`);
  if (!outputs.includes(output)) fail(`${output} is not a graph output`);
  for (const n of nodes)
    if (n.domain !== '' && n.domain !== 'ai.onnx' && [matmul, add].includes(n)) fail('the head must use standard ONNX ops');

  const weight = initializerValues(initializers, spec.weight, fail);
  const bias = initializerValues(initializers, spec.bias, fail);
  if (weight.dims.length !== 2) fail(`${spec.weight} must be [F, C], has dims [${weight.dims}]`);
  const [featureCount, classes] = weight.dims;
  if (bias.dims.length !== 1 || bias.dims[0] !== classes) fail(`${spec.bias} must be [${classes}], has dims [${bias.dims}]`);
  if (classes < 2) fail(`a head needs at least 2 classes, has ${classes}`);
  if (featureCount * classes > MAX_HEAD_WEIGHTS)
    fail(
      `a trainable head has at most ${MAX_HEAD_WEIGHTS} weights (clients send each one every round); this one has ${featureCount * classes}`,
    );
  return { ...spec, featureCount, classes, output, softmax, weightValues: weight.values, biasValues: bias.values };
}

/**
 * The model with `features` also as a graph output (`[N, F]` float32), everything else byte for byte: the
 * variant clients compute features with. A model that already outputs `features` comes back unchanged.
 */
export function withFeaturesOutput(model: Uint8Array, head: Pick<TrainableHead, 'features' | 'featureCount'>): Uint8Array {
  const graph = graphOf(model);
  for (const f of protobufFields(graph)) if (f.field === 12 && f.bytes && valueInfoName(f.bytes) === head.features) return model;
  const output = new ProtobufWriter()
    .message(12, (v) => {
      v.string(1, head.features);
      v.message(2, (type) =>
        type.message(1, (tensor) =>
          tensor
            .varint(1, 1)
            .message(2, (shape) => shape.message(1, (d) => d.string(2, 'N')).message(1, (d) => d.varint(1, head.featureCount))),
        ),
      );
    })
    .finish();
  return replaceGraph(model, concatBytes([graph, output]));
}

/** The model with the head's W and b replaced by `weight` ([F, C] row-major) and `bias` ([C]); the rest unchanged. */
export function withHeadWeights(
  model: Uint8Array,
  head: Pick<TrainableHead, 'weight' | 'bias' | 'featureCount' | 'classes'>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
): Uint8Array {
  if (weight.length !== head.featureCount * head.classes || bias.length !== head.classes)
    throw new Error(`head weights must be ${head.featureCount}×${head.classes} and ${head.classes} values`);
  const replaced = new Set<string>();
  const parts: Uint8Array[] = [];
  for (const f of protobufFields(graphOf(model))) {
    const name = f.field === 5 && f.bytes ? readTensor(f.bytes).name : undefined;
    if (name === head.weight || name === head.bias) {
      const values = name === head.weight ? weight : bias;
      const dims = name === head.weight ? [head.featureCount, head.classes] : [head.classes];
      const raw = new Uint8Array(values.length * 4);
      const view = new DataView(raw.buffer);
      for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
      parts.push(new ProtobufWriter().message(5, (t) => t.packedVarints(1, dims).varint(2, 1).string(8, name).bytes(9, raw)).finish());
      replaced.add(name);
    } else parts.push(f.raw);
  }
  if (replaced.size !== 2) throw new Error(`the model has no initializers ${head.weight} and ${head.bias}`);
  return replaceGraph(model, concatBytes(parts));
}

function graphOf(model: Uint8Array): Uint8Array {
  for (const f of protobufFields(model)) if (f.field === 7 && f.bytes) return f.bytes;
  throw new Error('not an ONNX model: no graph');
}

function replaceGraph(model: Uint8Array, graph: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of protobufFields(model)) parts.push(f.field === 7 ? new ProtobufWriter().bytes(7, graph).finish() : f.raw);
  return concatBytes(parts);
}

// NodeProto: input (1), output (2), op_type (4), attribute (5), domain (7). AttributeProto: name (1), i (3).
function readNode(bytes: Uint8Array): NodeInfo {
  const node: NodeInfo = { opType: '', inputs: [], outputs: [], domain: '' };
  for (const f of protobufFields(bytes)) {
    if (f.field === 1 && f.bytes) node.inputs.push(utf8(f.bytes));
    else if (f.field === 2 && f.bytes) node.outputs.push(utf8(f.bytes));
    else if (f.field === 4 && f.bytes) node.opType = utf8(f.bytes);
    else if (f.field === 7 && f.bytes) node.domain = utf8(f.bytes);
    else if (f.field === 5 && f.bytes) {
      let name = '';
      let value: number | undefined;
      for (const a of protobufFields(f.bytes)) {
        if (a.field === 1 && a.bytes) name = utf8(a.bytes);
        else if (a.field === 3 && a.varint !== undefined) value = int64(a.raw);
      }
      if (name === 'axis' && value !== undefined) node.axis = value;
    }
  }
  return node;
}

function valueInfoName(bytes: Uint8Array): string {
  for (const f of protobufFields(bytes)) if (f.field === 1 && f.bytes) return utf8(f.bytes);
  return '';
}

function initializerValues(
  initializers: Map<string, Uint8Array>,
  name: string,
  fail: (why: string) => never,
): { dims: number[]; values: Float32Array } {
  const bytes = initializers.get(name) ?? fail(`no initializer ${name}`);
  let tensor;
  try {
    tensor = readTensor(bytes);
  } catch (e) {
    return fail(`${name} is not inline float32 data (${(e as Error).message})`);
  }
  if (tensor.dataType !== 1 || !tensor.values) fail(`${name} must be float32 (data type ${tensor.dataType})`);
  return { dims: tensor.dims, values: tensor.values! };
}

/** A varint field's value as a signed 64-bit integer: int64 attributes keep -1 as 2⁶⁴ − 1, beyond a double's precision. */
function int64(raw: Uint8Array): number {
  let at = 0;
  while (raw[at] >= 0x80) at++; // the tag
  let value = 0n;
  for (let i = raw.length - 1; i > at; i--) value = (value << 7n) | BigInt(raw[i] & 0x7f);
  return Number(BigInt.asIntN(64, value));
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
