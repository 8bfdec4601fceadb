// The client side of /v2 answers (fallback to the server gives the device's tensors and error codes): the server's real encoder produces the bytes, the browser's
// decoder must give back the same tensors; error bodies map to our codes.
import { describe, expect, test } from 'vitest';
import { decodeV2Response } from '../../src/client/decodeV2Response';
import { errorFromV2Response } from '../../src/client/errorFromV2Response';
import { encodeInferResponse } from '../../src/inference/encodeInferResponse';
import type { Feeds } from '../../src/core/protocol';

const outputs: Feeds = {
  f: { type: 'float32', data: Float32Array.of(1.5, -0, NaN), dims: [3] },
  i: { type: 'int64', data: BigInt64Array.of(2n ** 62n + 1n, -5n), dims: [2] },
  u8: { type: 'uint8', data: Uint8Array.of(1, 2, 3), dims: [1, 3] },
  h: { type: 'float16', data: Uint16Array.of(0x3c00), dims: [] },
  s: { type: 'string', data: ['a', 'b'], dims: [2] },
};

describe('decodeV2Response', () => {
  test("the server's binary encoding decodes to the same tensors (odd offsets, int64 exact, strings as JSON)", () => {
    const selection = Object.keys(outputs).map((name) => ({ name, binary: true }));
    const encoded = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'x' }, outputs, selection);
    const decoded = decodeV2Response(new Uint8Array(encoded.body), encoded.headers['inference-header-content-length'] ?? null, 'u');
    expect(decoded).toEqual(outputs);
    expect(decoded.i.data).toBeInstanceOf(BigInt64Array);
  });

  test('what is not a v2 answer is INFERENCE_FAILED, never a wrong tensor', () => {
    const bad = (text: string, header: string | null = null) => {
      try {
        decodeV2Response(new TextEncoder().encode(text), header, 'u');
        return 'decoded';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(bad('<html>')).toBe('INFERENCE_FAILED');
    expect(bad('{"outputs":[{"name":"f","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}', '95')).toBe(
      'INFERENCE_FAILED',
    );
    expect(bad('{"outputs":[{"name":"f","datatype":"FP32","shape":[3],"data":[1,2]}]}')).toBe('INFERENCE_FAILED');
    expect(bad('{"outputs":[{"name":"f","datatype":"COMPLEX","shape":[1],"data":[1]}]}')).toBe('INFERENCE_FAILED');
  });
});

describe('errorFromV2Response', () => {
  test.each([
    [400, 'INVALID_INPUT', 'INVALID_INPUT'],
    [404, 'NOT_FOUND', 'MODEL_FETCH_FAILED'],
    [413, 'BODY_TOO_LARGE', 'INVALID_INPUT'],
    [401, 'UNAUTHORIZED', 'NOT_SUPPORTED'],
    [503, 'QUEUE_FULL', 'TIMEOUT'],
    [429, 'RATE_LIMITED', 'TIMEOUT'],
    [504, 'TIMEOUT', 'TIMEOUT'],
    [500, 'MODEL_LOAD_FAILED', 'MODEL_LOAD_FAILED'],
    [500, 'WORKER_CRASHED', 'WORKER_CRASHED'],
    [500, 'INFERENCE_FAILED', 'INFERENCE_FAILED'],
  ])('%i %s → %s', (status, serverCode, code) => {
    const e = errorFromV2Response(status, JSON.stringify({ error: 'why', code: serverCode }), 'http://h/v2/models/m/infer');
    expect(e).toMatchObject({ name: 'OnDeviceError', code, details: { status, serverCode } });
    expect(e.message).toContain('why');
  });

  test("a proxy's HTML error page is decided by status", () => {
    expect(errorFromV2Response(502, '<html>Bad gateway</html>', 'u').code).toBe('INFERENCE_FAILED');
    expect(errorFromV2Response(404, '<html>nope</html>', 'u').code).toBe('MODEL_FETCH_FAILED');
    expect(errorFromV2Response(504, '', 'u').code).toBe('TIMEOUT');
  });
});
