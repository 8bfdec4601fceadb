import { describe, expect, it } from 'vitest';
import { loadAlertRules, parseAlertRules } from '../../src/collector/alertRules';
import { checkBatch, LIMITS, validateBatch } from '../../src/core/eventSchema';
import { errorEvent, feedbackEvent, inferenceEvent, modelLoadEvent, sessionEvent } from './makeEvents';

const valid = () => ({
  siteKey: 'demo',
  events: [
    sessionEvent(),
    sessionEvent({ vendor: null }),
    modelLoadEvent({ fallbackReason: 'no WebGPU adapter' }),
    inferenceEvent({ predictionId: 'pred-1' }),
    errorEvent(),
    feedbackEvent({ predictionId: 'pred-1', predicted: 3 }),
  ],
});

/** Apply `mutate` to a fresh valid batch and return the validation result. */
const withMutation = (mutate: (b: any) => void) => {
  const b: any = valid();
  mutate(b);
  return validateBatch(JSON.parse(JSON.stringify(b)));
};

describe('validateBatch', () => {
  it('accepts every event type', () => {
    const r = validateBatch(JSON.parse(JSON.stringify(valid())));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.events.map((e) => e.type)).toEqual(['session', 'session', 'model_load', 'inference', 'error', 'feedback']);
      expect(r.siteKey).toBe('demo');
    }
  });

  it('accepts a batch without siteKey (it may come in the URL)', () => {
    expect(withMutation((b) => delete b.siteKey).ok).toBe(true);
  });

  it.each([
    ['non-object batch', (b: any) => Object.assign(b, { events: 'x' }), '$.events'],
    ['unknown batch key', (b: any) => (b.extra = 1), '$.extra'],
    ['empty batch', (b: any) => (b.events = []), '$.events'],
    ['unknown type', (b: any) => (b.events[0].type = 'click'), '$.events[0].type'],
    ['missing id', (b: any) => delete b.events[3].id, '$.events[3].id'],
    ['short id', (b: any) => (b.events[3].id = 'abc'), '$.events[3].id'],
    ['id with spaces', (b: any) => (b.events[3].id = 'abc def ghi'), '$.events[3].id'],
    ['ts as string', (b: any) => (b.events[3].ts = String(Date.now())), '$.events[3].ts'],
    ['ts before 2020', (b: any) => (b.events[3].ts = 0), '$.events[3].ts'],
    ['fractional ts', (b: any) => (b.events[3].ts = Date.now() + 0.5), '$.events[3].ts'],
    ['bad backend', (b: any) => (b.events[3].backend = 'cuda'), '$.events[3].backend'],
    ['negative ms', (b: any) => (b.events[3].ms = -1), '$.events[3].ms'],
    ['ms above an hour', (b: any) => (b.events[3].ms = 3_600_001), '$.events[3].ms'],
    ['unknown event key', (b: any) => (b.events[3].rawInput = [1, 2, 3]), '$.events[3].rawInput'],
    ['unknown output key', (b: any) => (b.events[3].output.logits = [1]), '$.events[3].output.logits'],
    ['fractional dim', (b: any) => (b.events[3].inputDims.input = [1.5]), '$.events[3].inputDims.input[0]'],
    ['rank too high', (b: any) => (b.events[3].inputDims.input = new Array(9).fill(1)), '$.events[3].inputDims.input'],
    ['missing modelVersion on inference', (b: any) => delete b.events[3].modelVersion, '$.events[3].modelVersion'],
    ['unknown error code', (b: any) => (b.events[4].code = 'WHATEVER'), '$.events[4].code'],
    ['message too long', (b: any) => (b.events[4].message = 'x'.repeat(LIMITS.maxMessageLength + 1)), '$.events[4].message'],
    ['label as object', (b: any) => (b.events[5].label = { a: 1 }), '$.events[5].label'],
    ['empty label', (b: any) => (b.events[5].label = ''), '$.events[5].label'],
    ['webgpu wrong shape', (b: any) => (b.events[0].device.webgpu = 'nvidia'), '$.events[0].device.webgpu'],
    ['unknown device key', (b: any) => (b.events[0].device.userAgent = 'Mozilla/5.0'), '$.events[0].device.userAgent'],
    ['unknown webgpu key', (b: any) => (b.events[0].device.webgpu.features = ['f16']), '$.events[0].device.webgpu.features'],
    ['browser without brand', (b: any) => delete b.events[0].device.browser.brand, '$.events[0].device.browser.brand'],
    ['bytes fractional', (b: any) => (b.events[2].bytes = 1.5), '$.events[2].bytes'],
    ['fromCache missing', (b: any) => delete b.events[2].fromCache, '$.events[2].fromCache'],
  ])('rejects %s', (_name, mutate, path) => {
    const r = withMutation(mutate);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.path).toBe(path);
  });

  it('rejects more than maxEventsPerBatch events', () => {
    const r = validateBatch({ events: new Array(LIMITS.maxEventsPerBatch + 1).fill(0).map(() => inferenceEvent()) });
    expect(r).toMatchObject({ ok: false, path: '$.events' });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('rejects the prototype-pollution key %s anywhere', (key) => {
    for (const target of ['{"events":[EVENT], "K": 1}', '{"events":[EVENT]}']) {
      const ev = JSON.stringify(inferenceEvent()).replace('"output":{', `"output":{"${key}":{"polluted":true},`);
      const r = validateBatch(JSON.parse(target.replace('EVENT', ev).replace('"K"', `"${key}"`)));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/forbidden key/);
    }
    expect(({} as any).polluted).toBeUndefined();
  });

  it('rejects prototype-pollution keys as input names', () => {
    const text = JSON.stringify({ events: [inferenceEvent()] }).replace('"input":[', '"__proto__":[');
    expect(validateBatch(JSON.parse(text))).toMatchObject({ ok: false, path: '$.events[0].inputDims.__proto__' });
  });

  it('rejects non-finite and huge numbers', () => {
    // eslint-disable-next-line no-loss-of-precision -- overflowing literals are the point (they parse to ±Infinity)
    for (const ms of [1e400, -1e400, Number.NaN, 1e308]) {
      expect(withMutation((b) => (b.events[3].ms = ms)).ok).toBe(false);
    }
    expect(validateBatch(JSON.parse(`{"events":[${JSON.stringify(inferenceEvent()).replace('"ms":12', '"ms":1e400')}]}`)).ok).toBe(false);
  });

  it('rejects lone surrogates and NUL in text', () => {
    expect(withMutation((b) => (b.events[4].message = 'bad \ud800 text')).ok).toBe(false);
    expect(withMutation((b) => (b.events[4].message = 'bad \u0000 text')).ok).toBe(false);
    expect(withMutation((b) => (b.events[4].message = 'emoji 😀 is fine')).ok).toBe(true);
  });

  it('rejects deep nesting without recursion trouble', () => {
    const deep = JSON.parse('['.repeat(5000) + ']'.repeat(5000));
    expect(validateBatch({ events: [deep] }).ok).toBe(false);
    const nested: any = {};
    let cur = nested;
    for (let i = 0; i < 2000; i++) cur = cur.a = {};
    expect(validateBatch({ events: [{ ...inferenceEvent(), output: nested }] }).ok).toBe(false);
  });

  it('rejects arrays and class instances where objects belong', () => {
    expect(validateBatch([]).ok).toBe(false);
    expect(validateBatch(null).ok).toBe(false);
    expect(validateBatch({ events: [new Date()] }).ok).toBe(false);
  });

  it('keeps input names out of Object.prototype', () => {
    const r = validateBatch({ events: [inferenceEvent({ inputDims: { toString: [1], hasOwnProperty: [2] } })] });
    expect(r.ok).toBe(true);
  });
});

describe('session device fields', () => {
  it('keep only the GPU vendor and the browser brand; fields of older clients are accepted and dropped', () => {
    const legacy = sessionEvent() as any;
    legacy.device = {
      webgpu: { vendor: 'nvidia', architecture: 'ampere', device: 'RTX 3080', description: 'NVIDIA GeForce RTX 3080' },
      hardwareConcurrency: 16,
      deviceMemory: 8,
      crossOriginIsolated: true,
      browser: { brand: 'Chrome', version: '130' },
    };
    const r = validateBatch({ events: [legacy] });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.events[0]).toMatchObject({ device: { webgpu: { vendor: 'nvidia' }, browser: { brand: 'Chrome' } } });
    if (r.ok && r.events[0].type === 'session') {
      expect(r.events[0].device).toEqual({ webgpu: { vendor: 'nvidia' }, browser: { brand: 'Chrome' } });
      expect(JSON.stringify(r.events[0])).not.toMatch(/RTX|ampere|hardwareConcurrency|deviceMemory|"version"/);
    }
  });
});

describe('checkBatch: event by event, client time windowed by receive time', () => {
  const receivedAtMs = Date.UTC(2026, 5, 1, 12);
  const at = (ts: number) => inferenceEvent({ ts });

  it('returns the valid events and each invalid one with its id, code and path', () => {
    const bad = { ...inferenceEvent(), ms: 'fast' };
    const good = [inferenceEvent({ ts: receivedAtMs }), errorEvent({ ts: receivedAtMs })];
    const r = checkBatch(JSON.parse(JSON.stringify({ events: [good[0], bad, good[1], { id: 7 }] })));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events.map((e) => e.id)).toEqual(good.map((e) => e.id));
    expect(r.rejected.map(({ id, code, path }) => ({ id, code, path }))).toEqual([
      { id: bad.id, code: 'INVALID_EVENT', path: '$.events[1].ms' },
      { id: null, code: 'INVALID_EVENT', path: '$.events[3].type' },
    ]);
  });

  it('rejects a forbidden key in one event without losing the others', () => {
    const ev = JSON.stringify(inferenceEvent());
    const text = `{"events":[${ev.replace('"output":{', '"output":{"__proto__":{"polluted":true},')},${JSON.stringify(errorEvent())}]}`;
    const r = checkBatch(JSON.parse(text));
    expect(r).toMatchObject({
      ok: true,
      events: [{ type: 'error' }],
      rejected: [{ code: 'INVALID_EVENT', path: '$.events[0].output.__proto__' }],
    });
    expect(({} as any).polluted).toBeUndefined();
  });

  it('still rejects a body that is not a batch as a whole', () => {
    expect(checkBatch({ events: [] })).toMatchObject({ ok: false, path: '$.events' });
    expect(checkBatch({ events: [inferenceEvent()], __proto__x: 1 })).toMatchObject({ ok: false, path: '$.__proto__x' });
    expect(checkBatch(JSON.parse(`{"__proto__":{"a":1},"events":[${JSON.stringify(inferenceEvent())}]}`))).toMatchObject({
      ok: false,
      error: 'forbidden key "__proto__"',
    });
  });

  it.each([
    ['7 days old', true, receivedAtMs - LIMITS.maxEventAgeMs],
    ['7 days and 1 ms old', false, receivedAtMs - LIMITS.maxEventAgeMs - 1],
    ['5 minutes ahead', true, receivedAtMs + LIMITS.maxClockSkewMs],
    ['5 minutes and 1 ms ahead', false, receivedAtMs + LIMITS.maxClockSkewMs + 1],
    ['a year old', false, receivedAtMs - 365 * 24 * 3600 * 1000],
  ])('client ts %s: accepted %s', (_name, accepted, ts) => {
    const event = at(ts);
    const r = checkBatch({ events: [event] }, { receivedAtMs });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events.length).toBe(accepted ? 1 : 0);
    expect(r.rejected.map(({ id, code, path }) => ({ id, code, path }))).toEqual(
      accepted ? [] : [{ id: event.id, code: 'TIMESTAMP_OUT_OF_RANGE', path: '$.events[0].ts' }],
    );
  });
});

describe('parseAlertRules', () => {
  const rule = (o: Record<string, unknown> = {}) => ({
    name: 'slow',
    metric: 'latency_p95',
    op: '>',
    threshold: 200,
    windowMs: 60_000,
    minSamples: 20,
    ...o,
  });

  it('accepts the shipped config/alerts.json and defaults the evaluation interval', async () => {
    const shipped = await loadAlertRules('config/alerts.json');
    expect(shipped.ok).toBe(true);
    expect(parseAlertRules({ rules: [rule()] })).toEqual({ ok: true, config: { evaluationIntervalMs: 15_000, rules: [rule()] } });
  });

  it.each([
    ['not an object', [], 'alert rules must be an object'],
    ['rules missing', {}, 'rules is required'],
    ['unknown top-level key', { rules: [], extra: 1 }, 'extra is not a known key'],
    ['interval too short', { evaluationIntervalMs: 10, rules: [] }, 'evaluationIntervalMs must be within [100, 86400000]'],
    ['unknown rule key', { rules: [rule({ severity: 'high' })] }, 'rules[0].severity is not a known key'],
    ['bad metric', { rules: [rule({ metric: 'p99' })] }, 'rules[0].metric must be one of accuracy, psi, latency_p95, error_rate'],
    ['bad op', { rules: [rule({ op: '>=' })] }, 'rules[0].op must be "<" or ">"'],
    ['window too long', { rules: [rule({ windowMs: 91 * 86_400_000 })] }, 'rules[0].windowMs must be within [1000, 90 days]'],
    ['fractional minSamples', { rules: [rule({ minSamples: 1.5 })] }, 'rules[0].minSamples must be a positive integer'],
    ['infinite threshold', { rules: [rule({ threshold: Infinity })] }, 'rules[0].threshold must be a finite number'],
    ['duplicate name', { rules: [rule(), rule({ metric: 'psi' })] }, 'rules[1].name "slow" is not unique'],
    ['missing windowMs', { rules: [rule({ windowMs: undefined })] }, 'rules[0].windowMs is required'],
  ])('rejects %s with where and why', (_name, config, error) => {
    expect(parseAlertRules(JSON.parse(JSON.stringify(config)))).toEqual({ ok: false, error });
  });
});
