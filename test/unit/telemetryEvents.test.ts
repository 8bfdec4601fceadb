// The client never emits an event the collector refuses: every builder's output goes through the
// collector's own validateBatch (src/core/eventSchema.ts), with the inputs that used to break it.
import { describe, expect, test } from 'vitest';
import { LIMITS, validateBatch, type TelemetryEvent } from '../../src/core/eventSchema';
import { OnDeviceError } from '../../src/core/OnDeviceError';
import type { LifecycleEvent } from '../../src/core/lifecycle';
import type { LoadInfo } from '../../src/core/protocol';
import { eventFromLifecycle, type EventInput } from '../../src/telemetry/eventFromLifecycle';
import { feedbackEvent } from '../../src/telemetry/feedbackEvent';
import { redactUrls } from '../../src/telemetry/redactUrls';
import { wellFormedText } from '../../src/telemetry/wellFormedText';

let n = 0;
function stamp(input: EventInput): TelemetryEvent {
  n++;
  return {
    ...input,
    id: `event-${String(n).padStart(8, '0')}`,
    ts: Date.UTC(2026, 11, 1),
    installId: 'install-1',
    sessionId: 'session-1',
  } as TelemetryEvent;
}

function expectValid(...inputs: (EventInput | undefined)[]): TelemetryEvent[] {
  const events = inputs.map((input) => {
    expect(input).toBeDefined();
    return stamp(input!);
  });
  const result = validateBatch(JSON.parse(JSON.stringify({ siteKey: 'demo', events })));
  expect(result).toMatchObject({ ok: true });
  return events;
}

// An emoji (two UTF-16 code units) straddling every limit: `.slice(0, limit)` leaves half of it.
const straddling = (limit: number) => 'a'.repeat(limit - 1) + '😀' + 'tail';
const info = { backend: 'wasm', bytes: 1234, fromCache: false } as LoadInfo;

describe('event builders produce events the collector accepts', () => {
  test('an emoji cut at the limit (message, fallback reason, label) is cut whole', () => {
    const [error, load, feedback] = expectValid(
      eventFromLifecycle({
        type: 'error',
        modelId: 'm',
        error: new OnDeviceError('INFERENCE_FAILED', straddling(LIMITS.maxMessageLength)),
      }),
      eventFromLifecycle({ type: 'model_load', modelId: 'm', info, fallbackReason: straddling(LIMITS.maxFallbackReasonLength), ms: 5 }),
      feedbackEvent({ modelId: 'm', predictionId: 'p-1', label: straddling(LIMITS.maxLabelLength) }),
    );
    expect(error).toMatchObject({ message: 'a'.repeat(LIMITS.maxMessageLength - 1) });
    expect(load).toMatchObject({ fallbackReason: 'a'.repeat(LIMITS.maxFallbackReasonLength - 1) });
    expect(feedback).toMatchObject({ label: 'a'.repeat(LIMITS.maxLabelLength - 1) });
  });

  test('a URL model id decoded from my%20model.onnx, odd versions, input names and prediction ids', () => {
    const inference: LifecycleEvent = {
      type: 'inference',
      predictionId: 'pred id/1',
      modelId: 'my model', // what loadModel('…/my%20model.onnx') names it
      modelVersion: 'v 1 (beta)',
      backend: 'wasm',
      ms: 3.5,
      inputDims: { ['x'.repeat(100)]: [1, 3], ['__proto__']: [2], constructor: [1], 'emoji😀': [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      outputs: { y: { type: 'float32', dims: [1, 3], data: Float32Array.of(0.1, 0.8, 0.1) } },
    };
    const [event, feedback] = expectValid(
      eventFromLifecycle(inference),
      feedbackEvent({ modelId: 'my model', predictionId: 'pred id/1', label: 2, predicted: 1 }),
    );
    expect(event).toMatchObject({ modelId: 'my_model', modelVersion: 'v_1__beta_', output: { topClass: 1, predictionId: 'pred_id_1' } });
    // The feedback still points at its prediction.
    expect(feedback).toMatchObject({ modelId: 'my_model', predictionId: 'pred_id_1' });
  });

  test('backend_lost, an error before any model id, huge or non-finite numbers', () => {
    expectValid(
      eventFromLifecycle({ type: 'backend_lost', modelId: 'ppocr-v4-det', reason: 'device lost \ud800 (lone surrogate) \u0000' }),
      eventFromLifecycle({ type: 'error', error: new OnDeviceError('MODEL_FETCH_FAILED', 'HTTP 404') }),
      eventFromLifecycle({ type: 'model_load', modelId: 'm', info: { ...info, bytes: 2 ** 50 }, ms: Number.POSITIVE_INFINITY }),
    );
  });

  test('a model loaded with telemetry: false produces nothing', () => {
    expect(eventFromLifecycle({ type: 'model_load', modelId: 'm', info, ms: 1, report: false })).toBeUndefined();
  });

  test('feedback the collector could never accept is INVALID_INPUT, not a dropped event', () => {
    for (const bad of [{ label: '' }, { label: 0.5 }, { predictionId: '' }]) {
      const call = () => feedbackEvent({ modelId: 'm', predictionId: 'p-1', label: 'cat', ...bad });
      expect(call).toThrow(OnDeviceError);
      expect(call).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});

describe('privacy: URLs in error messages lose their query and fragment', () => {
  test('signed URLs, registry URLs, blob URLs', () => {
    const message =
      'HTTP 403 for https://cdn.example/models/m.onnx?X-Amz-Signature=secret&X-Amz-Credential=me#frag ' +
      '(registry http://127.0.0.1:8080/models/registry.json?token=abc), blob:http://x/1234#y';
    const redacted = redactUrls(message);
    expect(redacted).not.toMatch(/secret|token|abc|frag|#y|\?/);
    expect(redacted).toContain('https://cdn.example/models/m.onnx');
    expect(redacted).toContain('http://127.0.0.1:8080/models/registry.json');
    const [event] = expectValid(
      eventFromLifecycle({ type: 'error', modelId: 'm', error: new OnDeviceError('MODEL_FETCH_FAILED', message) }),
    );
    expect(event).toMatchObject({ message: redacted });
  });
});

describe('wellFormedText', () => {
  test('keeps pairs, replaces lone surrogates, never exceeds the limit', () => {
    expect(wellFormedText('ok 😀', 4)).toBe('ok ');
    expect(wellFormedText('ok 😀', 5)).toBe('ok 😀');
    expect(wellFormedText('a\udc00b', 10)).toBe('a\ufffdb');
  });
});
