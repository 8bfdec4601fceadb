import type { ElementType, Feeds } from './protocol';
import type { TensorSpec } from './schema/TensorSpec';
import { OnDeviceError } from './OnDeviceError';
import { isFixedDim } from './normalizeDim';
import { ownValue } from './ownValue';

const ARRAY_FOR_TYPE: Record<ElementType, string[]> = {
  float32: ['Float32Array'],
  float64: ['Float64Array'],
  // float16 travels as raw bits; Float16Array where the platform has it.
  float16: ['Uint16Array', 'Float16Array'],
  int8: ['Int8Array'],
  uint8: ['Uint8Array', 'Uint8ClampedArray'],
  bool: ['Uint8Array'],
  int16: ['Int16Array'],
  uint16: ['Uint16Array'],
  int32: ['Int32Array'],
  uint32: ['Uint32Array'],
  int64: ['BigInt64Array'],
  uint64: ['BigUint64Array'],
  string: ['Array'],
};

// A model's input specs never change: their names are collected once, not on every run.
const inputNames = new WeakMap<TensorSpec[], Set<string>>();
function namesOf(inputs: TensorSpec[]): Set<string> {
  let names = inputNames.get(inputs);
  if (!names) inputNames.set(inputs, (names = new Set(inputs.map((i) => i.name))));
  return names;
}

function arrayKind(data: unknown): string {
  if (Array.isArray(data)) return 'Array';
  return (data as object | null)?.constructor?.name ?? typeof data;
}

/**
 * Check feeds against the model's inputs before anything crosses to the worker, so a mistake gets a
 * message naming the input and what was expected instead of an onnxruntime stack trace.
 */
export function validateFeeds(feeds: unknown, inputs: TensorSpec[], modelId: string): asserts feeds is Feeds {
  const bad = (message: string, details: Record<string, unknown> = {}) => {
    throw new OnDeviceError('INVALID_INPUT', `${modelId}: ${message}`, { modelId, ...details });
  };
  if (!feeds || typeof feeds !== 'object' || Array.isArray(feeds)) {
    bad('feeds must be an object mapping input names to { type, data, dims }');
  }
  const given = feeds as Record<string, unknown>;
  const expected = namesOf(inputs);
  for (const name of Object.keys(given)) {
    if (!expected.has(name))
      bad(`unknown input "${name}"; the model's inputs are ${[...expected].map((n) => `"${n}"`).join(', ')}`, { input: name });
  }
  for (const spec of inputs) {
    const feed = ownValue(given as Record<string, unknown>, spec.name) as { type?: unknown; data?: unknown; dims?: unknown } | undefined;
    if (!feed) bad(`missing input "${spec.name}" (${spec.type} [${spec.shape.join(', ')}])`, { input: spec.name });
    const where = `input "${spec.name}"`;
    if (feed!.type !== spec.type)
      bad(`${where} must be ${spec.type}, got ${String(feed!.type)}`, { input: spec.name, expected: spec.type, actual: feed!.type });
    const kind = arrayKind(feed!.data);
    if (!ARRAY_FOR_TYPE[spec.type].includes(kind)) {
      bad(`${where} (${spec.type}) needs data as ${ARRAY_FOR_TYPE[spec.type].join(' or ')}, got ${kind}`, { input: spec.name });
    }
    const dims = feed!.dims;
    if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) {
      bad(`${where} needs dims as an array of non-negative integers ([] for a scalar)`, { input: spec.name });
    }
    const d = dims as number[];
    if (d.length !== spec.shape.length) {
      bad(`${where} must have rank ${spec.shape.length} [${spec.shape.join(', ')}], got rank ${d.length} [${d.join(', ')}]`, {
        input: spec.name,
      });
    }
    spec.shape.forEach((want, axis) => {
      // Only fixed dims constrain; a symbolic one ('batch', '?', or a raw -1 / 2³²−1) takes any size.
      if (isFixedDim(want) && d[axis] !== want) {
        bad(`${where} dim ${axis} must be ${want}, got ${d[axis]} (shape [${spec.shape.join(', ')}])`, { input: spec.name, axis });
      }
    });
    const size = d.reduce((a, b) => a * b, 1);
    const length = (feed!.data as { length: number }).length;
    if (length !== size) bad(`${where} has ${length} elements but dims [${d.join(', ')}] need ${size}`, { input: spec.name });
  }
}
