// Tensors cross from Node to the page (page.evaluate) as base64, and back the same way.
import type { TensorData } from '../../src/core/protocol';

export interface WireTensor {
  type: string;
  dims: number[];
  array: string;
  b64: string;
}

export function toWire(t: TensorData): WireTensor {
  const data = t.data as ArrayBufferView;
  return {
    type: t.type,
    dims: t.dims,
    array: data.constructor.name,
    b64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}

export function fromWire(w: WireTensor): TensorData {
  const bytes = Buffer.from(w.b64, 'base64');
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const Ctor = (globalThis as unknown as Record<string, new (b: ArrayBuffer) => TensorData['data']>)[w.array];
  return { type: w.type, dims: w.dims, data: new Ctor(copy.buffer) } as TensorData;
}

export function feedsToWire(feeds: Record<string, TensorData>): Record<string, WireTensor> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toWire(v)]));
}

export function feedsFromWire(feeds: Record<string, WireTensor>): Record<string, TensorData> {
  return Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, fromWire(v)]));
}

/** The same codec as a string to inject into pages (they have no Buffer). */
export const PAGE_WIRE_SOURCE = `
window.__wire = {
  fromWire(w) {
    const bin = atob(w.b64); const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return { type: w.type, dims: w.dims, data: new globalThis[w.array](bytes.buffer) };
  },
  toWire(t) {
    const v = t.data; const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    let bin = ''; for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return { type: t.type, dims: t.dims, array: v.constructor.name, b64: btoa(bin) };
  },
  feedsFromWire(f) { return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, this.fromWire(v)])); },
  feedsToWire(f) { return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, this.toWire(v)])); },
};
`;
