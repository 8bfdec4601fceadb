// Type tests for tensors and typed models, checked by `npm run typecheck` (config/tsconfig/node.json),
// never run. Each `@ts-expect-error` is a misuse that must not compile: if it starts compiling, the
// directive itself becomes an error ("Unused '@ts-expect-error' directive").
import {
  loadModel,
  type ElementType,
  type Feeds,
  type Model,
  type Tensor,
  type TensorArray,
  type TensorData,
  type TensorSpec,
} from '../../src/index';

type VadInputs = { input: 'float32'; state: 'float32'; sr: 'int64' };
type VadOutputs = { output: 'float32'; stateN: 'float32' };

export function tensorsCarryTheirElementType(): void {
  const f32: Tensor<'float32'> = { type: 'float32', data: new Float32Array(4), dims: [4] };
  const i64: Tensor<'int64'> = { type: 'int64', data: BigInt64Array.of(16000n), dims: [] };
  const f16: Tensor<'float16'> = { type: 'float16', data: Uint16Array.of(0x3c00), dims: [1] };
  const flag: Tensor<'bool'> = { type: 'bool', data: Uint8Array.of(1), dims: [1] };
  const text: Tensor<'string'> = { type: 'string', data: ['a'], dims: [1] };
  const any: TensorData[] = [f32, i64, f16, flag, text];
  void any;

  // @ts-expect-error a float32 tensor carries a Float32Array, not an Int32Array
  const wrong: Tensor<'float32'> = { type: 'float32', data: new Int32Array(4), dims: [4] };
  // @ts-expect-error int64 needs a BigInt64Array: numbers would lose precision past 2^53
  const numbers: Tensor<'int64'> = { type: 'int64', data: Int32Array.of(16000), dims: [] };
  void [wrong, numbers];
}

export function theUnionChecksThePairingToo(): Feeds {
  // @ts-expect-error in any tensor, type and data must agree
  const wrong: TensorData = { type: 'float32', data: new Int32Array(4), dims: [4] };
  void wrong;
  const feeds: Feeds = {
    x: { type: 'float32', data: new Float32Array(4), dims: [1, 4] },
    // @ts-expect-error …also inside Feeds
    y: { type: 'int64', data: new Float64Array(1), dims: [1] },
  };
  return feeds;
}

export function checkingTypeNarrowsData(out: Feeds): number {
  const t = out.probs;
  if (t.type === 'int64') {
    const ids: bigint[] = Array.from(t.data);
    return ids.length;
  }
  if (t.type === 'float32') {
    const probs: number[] = Array.from(t.data);
    // @ts-expect-error a float32 tensor's data is not a BigInt64Array
    const big: BigInt64Array = t.data;
    void big;
    return probs.length;
  }
  // @ts-expect-error without narrowing, data could be any array (bigint, number or string elements)
  const unknown: number[] = Array.from(t.data);
  return unknown.length;
}

export function codeThatBuildsTensorsGenerically(type: ElementType, data: TensorArray, dims: number[]): Feeds {
  // The pairing is checked at run time (validateFeeds); a cast says so.
  return { x: { type, data, dims } as TensorData };
}

export async function typedModels(signal: AbortSignal): Promise<number> {
  const vad = await loadModel<VadInputs, VadOutputs>('silero-vad-v5', { signal });
  const state = new Float32Array(2 * 128);
  const out = await vad.run({
    input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] },
    state: { type: 'float32', data: state, dims: [2, 1, 128] },
    sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
  });
  const probability: number = out.output.data[0];
  const next: Float32Array = out.stateN.data;
  const all: number[] = Array.from(out.output.data);
  void [next, all];

  // @ts-expect-error a misspelt output name does not compile
  void out.outptu;
  // @ts-expect-error outputs keep their element type: stateN is float32
  const asBig: BigInt64Array = out.stateN.data;
  void asBig;

  await vad.run({
    input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] },
    state: { type: 'float32', data: state, dims: [2, 1, 128] },
    // @ts-expect-error sr is int64: a Float32Array does not fit
    sr: { type: 'int64', data: Float32Array.of(16000), dims: [] },
  });
  // @ts-expect-error every declared input is required
  await vad.run({ input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] } });
  await vad.run({
    input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] },
    state: { type: 'float32', data: state, dims: [2, 1, 128] },
    sr: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
    // @ts-expect-error an input the model does not declare
    samplerate: { type: 'int64', data: BigInt64Array.of(16000n), dims: [] },
  });
  await vad.run({
    input: { type: 'float32', data: new Float32Array(576), dims: [1, 576] },
    state: { type: 'float32', data: state, dims: [2, 1, 128] },
    // @ts-expect-error the type tag must match the declared element type
    sr: { type: 'int32', data: Int32Array.of(16000), dims: [] },
  });

  // A typed model is still a Model: code written for any model accepts it.
  const plain: Model = vad;
  const untyped = await plain.run({ anything: { type: 'uint8', data: new Uint8Array(1), dims: [1] } });
  void untyped.whatever;
  return probability;
}

export function specsMaySayUnknown(spec: TensorSpec): boolean {
  // Unnamed dynamic dims are '?', named ones keep their name; both are strings.
  const dims: (number | string)[] = ['?', 'batch', 3];
  spec.shape = dims;
  return spec.shape.includes('?');
}
