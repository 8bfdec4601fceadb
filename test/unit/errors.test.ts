import { describe, expect, test } from 'vitest';
import { ERROR_CODES, OnDeviceError, deserializeError, serializeError } from '../../src/core/OnDeviceError';
import { translateError } from '../../src/runtime/translateError';
import { looksLikeModel } from '../../src/core/looksLikeModel';

describe('OnDeviceError', () => {
  test('round-trips across a boundary with code, message and details', () => {
    const original = new OnDeviceError('QUOTA_EXCEEDED', 'no room', { needed: 5 });
    const copy = deserializeError(structuredClone(serializeError(original)));
    expect(copy).toBeInstanceOf(OnDeviceError);
    expect(copy.code).toBe('QUOTA_EXCEEDED');
    expect(copy.message).toBe('no room');
    expect(copy.details).toEqual({ needed: 5 });
  });

  test('codes are the documented, stable set', () => {
    // The exact set, in order: a code is never renamed, removed or added without this list (and docs/api.md) changing.
    expect([...ERROR_CODES]).toEqual([
      'INVALID_INPUT',
      'MODEL_FETCH_FAILED',
      'MODEL_LOAD_FAILED',
      'BACKEND_UNAVAILABLE',
      'BACKEND_LOST',
      'WORKER_CRASHED',
      'ABORTED',
      'DISPOSED',
      'OUT_OF_MEMORY',
      'INTEGRITY_MISMATCH',
      'QUOTA_EXCEEDED',
      'TIMEOUT',
      'INFERENCE_FAILED',
      'NOT_SUPPORTED',
    ]);
  });

  test('unknown values become a generic coded error', () => {
    expect(deserializeError({ name: 'Other' }).code).toBe('INFERENCE_FAILED');
    expect(serializeError(new Error('x'), 'MODEL_LOAD_FAILED').code).toBe('MODEL_LOAD_FAILED');
  });
});

describe('translateError', () => {
  test('bare numbers from onnxruntime mean out of memory', () => {
    expect(translateError(12345678, 'INFERENCE_FAILED', 'run').code).toBe('OUT_OF_MEMORY');
    expect(translateError('987654', 'INFERENCE_FAILED', 'run').code).toBe('OUT_OF_MEMORY');
    expect(translateError(new RangeError('Array buffer allocation failed'), 'MODEL_LOAD_FAILED', 'load').code).toBe('OUT_OF_MEMORY');
    expect(translateError(new Error('Aborted(OOM)'), 'MODEL_LOAD_FAILED', 'load').code).toBe('OUT_OF_MEMORY');
  });

  test('other errors keep the fallback code and the context', () => {
    const e = translateError(new Error('protobuf parsing failed'), 'MODEL_LOAD_FAILED', 'Could not create a session');
    expect(e.code).toBe('MODEL_LOAD_FAILED');
    expect(e.message).toContain('protobuf parsing failed');
    expect(e.message).toContain('Could not create a session');
  });
});

describe('looksLikeModel', () => {
  test('accepts an ONNX header (ir_version varint)', () => {
    expect(looksLikeModel(Uint8Array.of(0x08, 0x07, 0x12, 0x04), 'application/octet-stream').ok).toBe(true);
  });
  test('rejects HTML by content type or by content', () => {
    expect(looksLikeModel(Uint8Array.of(0x08), 'text/html; charset=utf-8').ok).toBe(false);
    expect(looksLikeModel(new TextEncoder().encode('  <!doctype html>'), null).ok).toBe(false);
    expect(looksLikeModel(new TextEncoder().encode('{"error":1}'), 'application/octet-stream').ok).toBe(false);
    expect(looksLikeModel(new Uint8Array(0), null).ok).toBe(false);
  });
});
