// The /v2 response size limit: refused before encoding when the tensor sizes already pass it, and JSON text that
// passes it while being written stops at once; exact bodies under it.
import { describe, expect, it } from 'vitest';
import { encodeInferResponse } from '../../src/inference/encodeInferResponse';
import { HttpError } from '../../src/http/HttpError';

const head = { modelName: 'm', modelVersion: '1', id: undefined };
const outputs = { y: { type: 'float32' as const, data: Float32Array.from({ length: 1000 }, (_, i) => i / 7), dims: [1000] } };
const json = [{ name: 'y', binary: false }];

function refusal(maxBytes: number, selection = json): HttpError {
  try {
    encodeInferResponse(head, outputs, selection, maxBytes);
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    return e as HttpError;
  }
  throw new Error('expected RESPONSE_TOO_LARGE');
}

describe('encodeInferResponse with a size limit', () => {
  it('answers under the limit exactly as without one', () => {
    const unlimited = encodeInferResponse(head, outputs, json);
    const limited = encodeInferResponse(head, outputs, json, unlimited.body.byteLength);
    expect(Buffer.from(limited.body).equals(Buffer.from(unlimited.body))).toBe(true);
  });

  it('refuses before encoding when two bytes a value (or the binary size) already pass it', () => {
    expect(refusal(1000)).toMatchObject({ status: 413, code: 'RESPONSE_TOO_LARGE', details: { limitBytes: 1000 } });
    expect(refusal(1000).message).toMatch(/at least 2001 bytes/);
    expect(refusal(3999, [{ name: 'y', binary: true }]).message).toMatch(/at least 4000 bytes/);
  });

  it('refuses before encoding on an estimate from a sample of the values', () => {
    // 1000 values like 142.14285278320312: far more than 2001 bytes of text; the sample (all of them here) says so.
    const error = refusal(5000);
    expect(error.code).toBe('RESPONSE_TOO_LARGE');
    expect(error.message).toMatch(/about \d+ bytes/);
  });

  it('stops writing JSON text as soon as it passes the limit when the sample missed the long values', () => {
    // 12 288 values: the sample reads every third one, all 0; the others are long. About 24 KB estimated, ~150 KB written.
    const data = Float32Array.from({ length: 3 * 4096 }, (_, i) => (i % 3 === 0 ? 0 : i / 7));
    const big = { y: { type: 'float32' as const, data, dims: [data.length] } };
    const limit = 40_000;
    expect(() => encodeInferResponse(head, big, json, limit)).toThrow(/more than 40000 bytes/);
    expect(encodeInferResponse(head, big, json).body.byteLength).toBeGreaterThan(limit);
  });
});
