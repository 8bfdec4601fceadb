import { isAbsolute, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { fromFloat16Bits } from '../../src/core/float16';
import { sourcePath } from '../../scripts/onnx/sourcePath';
import type { ModelEntry } from '../../src/registry/ModelEntry';
import type { Feeds, TensorArray, TensorData } from '../../src/core/protocol';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/**
 * Run a model in onnxruntime-node (CPU) and return its outputs as plain `{type, data, dims}`, the same
 * shape the worker returns. `model` is a path (relative to the cwd) or a registry entry. Sessions are
 * cached per file; call `closeReferenceSessions()` in afterAll.
 */
export async function runReference(model: string | ModelEntry, feeds: Feeds): Promise<Feeds> {
  const path = typeof model === 'string' ? (isAbsolute(model) ? model : resolve(model)) : sourcePath(model);
  let session = sessions.get(path);
  if (!session) {
    session = ort.InferenceSession.create(path);
    sessions.set(path, session);
    session.catch(() => sessions.delete(path));
  }
  const inputs: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) inputs[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  const results = await (await session).run(inputs);
  const out: Feeds = {};
  for (const [name, value] of Object.entries(results)) out[name] = toPlain(value as ort.Tensor);
  return out;
}

export async function closeReferenceSessions(): Promise<void> {
  const open = [...sessions.values()];
  sessions.clear();
  await Promise.all(open.map(async (s) => (await s.catch(() => undefined))?.release()));
}

function toPlain(tensor: ort.Tensor): TensorData {
  let data = tensor.data as unknown as TensorArray | ArrayBufferView;
  // float16 travels as raw bits; a runtime with Float16Array may hand those instead.
  if (tensor.type === 'float16' && !(data instanceof Uint16Array)) {
    const view = data as ArrayBufferView;
    data = new Uint16Array(view.buffer, view.byteOffset, view.byteLength / 2);
  }
  const owned = Array.isArray(data) ? [...data] : (data as { slice(): TensorArray }).slice();
  return { type: tensor.type, data: owned, dims: [...tensor.dims] } as TensorData;
}

export interface Tolerance {
  /** Absolute tolerance for floats (default 1e-4). */
  atol?: number;
  /** Relative tolerance for floats (default 1e-3): |a - e| <= atol + rtol * |e|. Integers and bool are exact. */
  rtol?: number;
}

export interface Mismatch {
  name: string;
  problem: 'missing' | 'unexpected' | 'type' | 'dims' | 'values';
  message: string;
  /** For `values`: how many elements are out of tolerance, the worst one, and the largest errors. */
  count?: number;
  index?: number;
  maxAbsError?: number;
  maxRelError?: number;
}

/**
 * Compare outputs element by element. Returns [] when everything matches. Float16 bits are decoded
 * before comparing; NaN equals NaN; infinities must match exactly.
 */
export function compareOutputs(actual: Feeds, expected: Feeds, { atol = 1e-4, rtol = 1e-3 }: Tolerance = {}): Mismatch[] {
  const mismatches: Mismatch[] = [];
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name];
    if (!a) {
      mismatches.push({ name, problem: 'missing', message: `${name}: missing from the actual outputs` });
      continue;
    }
    if (a.type !== e.type) {
      mismatches.push({ name, problem: 'type', message: `${name}: type ${a.type}, expected ${e.type}` });
      continue;
    }
    if (a.dims.length !== e.dims.length || a.dims.some((d, i) => d !== e.dims[i]) || a.data.length !== e.data.length) {
      mismatches.push({ name, problem: 'dims', message: `${name}: dims [${a.dims}], expected [${e.dims}]` });
      continue;
    }
    const values = compareValues(a, e, atol, rtol);
    if (values.count > 0) {
      mismatches.push({
        name,
        problem: 'values',
        message:
          `${name}: ${values.count} of ${e.data.length} values differ; worst at ${values.index}: ` +
          `${String(a.data[values.index])} vs ${String(e.data[values.index])} (max abs error ${values.maxAbsError}, max rel error ${values.maxRelError})`,
        ...values,
      });
    }
  }
  for (const name of Object.keys(actual)) {
    if (!(name in expected)) mismatches.push({ name, problem: 'unexpected', message: `${name}: not among the expected outputs` });
  }
  return mismatches;
}

function compareValues(a: TensorData, e: TensorData, atol: number, rtol: number) {
  const exact = !(e.type === 'float32' || e.type === 'float64' || e.type === 'float16');
  const read = (t: TensorData, i: number): number | bigint | string => {
    const v = t.data[i];
    return t.type === 'float16' ? fromFloat16Bits(v as number) : v;
  };
  let count = 0;
  let index = 0;
  let maxAbsError = 0;
  let maxRelError = 0;
  let worst = -1;
  for (let i = 0; i < e.data.length; i++) {
    const x = read(a, i);
    const y = read(e, i);
    let abs: number;
    let bad: boolean;
    if (typeof y === 'string' || typeof x === 'string') {
      bad = x !== y;
      abs = bad ? Infinity : 0;
    } else if (exact) {
      bad = x !== y;
      abs = Math.abs(Number(BigInt(x) - BigInt(y)));
    } else {
      const [xf, yf] = [Number(x), Number(y)];
      if (Number.isNaN(xf) || Number.isNaN(yf) || !Number.isFinite(xf) || !Number.isFinite(yf)) {
        bad = !(Object.is(xf, yf) || xf === yf);
        abs = bad ? Infinity : 0;
      } else {
        abs = Math.abs(xf - yf);
        bad = abs > atol + rtol * Math.abs(yf);
      }
    }
    const rel = abs === 0 ? 0 : abs / Math.abs(Number(y));
    maxAbsError = Math.max(maxAbsError, abs);
    if (!Number.isNaN(rel)) maxRelError = Math.max(maxRelError, rel);
    if (bad) {
      count++;
      if (abs > worst) {
        worst = abs;
        index = i;
      }
    }
  }
  return { count, index, maxAbsError, maxRelError };
}
