import type { ElementType, TensorArray } from '../core/protocol';
import { toFloat16Bits } from '../core/float16';
import { v2Error } from './v2Error';

const INT_RANGE: Partial<Record<ElementType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;

/**
 * A tensor's JSON `data` (flat or nested, row major) as a typed array of `type`, checking every element:
 * the protocol's JSON has no typed arrays, so a string in an FP32 tensor must be a 400, not a NaN.
 */
export function tensorFromJson(data: unknown, type: ElementType, count: number, where: string): TensorArray {
  if (!Array.isArray(data)) throw v2Error(400, 'INVALID_INPUT', `${where}: "data" must be an array`);
  let flat: unknown[];
  try {
    flat = data.flat(Infinity) as unknown[];
  } catch {
    throw v2Error(400, 'INVALID_INPUT', `${where}: "data" is nested too deeply`); // RangeError: call stack size
  }
  if (flat.length !== count) {
    throw v2Error(400, 'INVALID_INPUT', `${where}: shape needs ${count} elements but "data" has ${flat.length}`);
  }
  const bad = (i: number, want: string): never => {
    throw v2Error(400, 'INVALID_INPUT', `${where}: data[${i}] must be ${want}, got ${JSON.stringify(flat[i])?.slice(0, 40)}`);
  };
  switch (type) {
    case 'bool': {
      const out = new Uint8Array(count);
      flat.forEach((x, i) => (typeof x === 'boolean' ? (out[i] = x ? 1 : 0) : bad(i, 'true or false')));
      return out;
    }
    case 'float16': {
      const out = new Uint16Array(count);
      flat.forEach((x, i) => (typeof x === 'number' ? (out[i] = toFloat16Bits(x)) : bad(i, 'a number')));
      return out;
    }
    case 'int64':
    case 'uint64': {
      const out = type === 'int64' ? new BigInt64Array(count) : new BigUint64Array(count);
      const [min, max] = type === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      flat.forEach((x, i) => {
        const ok = (typeof x === 'number' && Number.isSafeInteger(x)) || (typeof x === 'string' && /^-?\d{1,20}$/.test(x));
        if (!ok) bad(i, `an integer (${type})`);
        const n = BigInt(x as number | string);
        if (n < min || n > max) bad(i, `within ${type}`);
        out[i] = n;
      });
      return out;
    }
    case 'string': {
      flat.forEach((x, i) => typeof x !== 'string' && bad(i, 'a string'));
      return flat as string[];
    }
    default: {
      const out = new ARRAYS[type](count);
      const range = INT_RANGE[type];
      flat.forEach((x, i) => {
        if (typeof x !== 'number') return bad(i, 'a number');
        if (range && (!Number.isInteger(x) || x < range[0] || x > range[1])) bad(i, `an integer within ${type}`);
        out[i] = x;
      });
      return out;
    }
  }
}
