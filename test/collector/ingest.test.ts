import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/core/eventSchema';
import { errorEvent, feedbackEvent, inferenceEvent, modelLoadEvent, sessionEvent } from './makeEvents';
import { getJson, postEvents, startCollector, type StartedCollector } from './startCollector';

describe('collector ingest (real process)', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    c = await startCollector({ env: { COLLECTOR_SITE_KEYS: 'demo,other' } });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('stores valid batches and summarises them per model × version × backend', async () => {
    const model = { modelId: 'summary-model', modelVersion: '7' };
    const batch = {
      siteKey: 'demo',
      events: [
        sessionEvent({ ...model, sessionId: 'sess-gpu', vendor: 'apple', brand: 'Chrome' }),
        sessionEvent({ ...model, sessionId: 'sess-cpu', vendor: null, brand: 'Firefox' }),
        modelLoadEvent({ ...model, sessionId: 'sess-gpu', backend: 'webgpu', ms: 100 }),
        modelLoadEvent({ ...model, sessionId: 'sess-gpu', backend: 'webgpu', ms: 300, fromCache: true }),
        // webgpu: 1..100 ms, wasm: 30 × 50 ms
        ...Array.from({ length: 100 }, (_, i) => inferenceEvent({ ...model, sessionId: 'sess-gpu', backend: 'webgpu', ms: i + 1 })),
        ...Array.from({ length: 30 }, () => inferenceEvent({ ...model, sessionId: 'sess-cpu', backend: 'wasm', ms: 50 })),
        ...Array.from({ length: 2 }, () => errorEvent(model)),
      ],
    };
    const r = await postEvents(c.url, batch);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accepted: 136, stored: 136, duplicates: 0, rejected: [], deferred: [] });

    const { status, body } = await getJson(`${c.url}/v1/summary?windowMs=3600000`);
    expect(status).toBe(200);
    const groups = body.groups.filter((g: any) => g.modelId === 'summary-model');
    expect(groups.map((g: any) => g.backend)).toEqual(['wasm', 'webgpu']);
    const [wasm, webgpu] = groups;
    expect(webgpu).toMatchObject({ modelVersion: '7', count: 100, loads: 2, meanLoadMs: 200, devices: { 'apple / Chrome': 1 } });
    expect(webgpu.latencyMs.p50).toBeCloseTo(50.5, 6);
    expect(webgpu.latencyMs.p95).toBeCloseTo(95.05, 6);
    expect(webgpu.latencyMs.p99).toBeCloseTo(99.01, 6);
    expect(webgpu.backendShare).toBeCloseTo(100 / 130, 6);
    expect(wasm).toMatchObject({ count: 30, latencyMs: { p50: 50, p95: 50, p99: 50, mean: 50 }, devices: { 'no-webgpu / Firefox': 1 } });
    expect(wasm.errorRate).toBeCloseTo(2 / 132, 6);
    expect(body.events).toMatchObject({ session: 2, model_load: 2, inference: 130, error: 2 });
  });

  it('accepts text/plain (sendBeacon) with the site key in the URL, and reports accuracy', async () => {
    const model = { modelId: 'beacon-model', modelVersion: '1' };
    const events = [
      inferenceEvent({ ...model, topClass: 'cat', predictionId: 'pred-a' }),
      inferenceEvent({ ...model, topClass: 'dog', predictionId: 'pred-b' }),
      feedbackEvent({ ...model, predictionId: 'pred-a', label: 'cat' }),
      feedbackEvent({ ...model, predictionId: 'pred-b', label: 'cat' }),
    ];
    const r = await postEvents(c.url, { events }, { contentType: 'text/plain;charset=UTF-8', query: '?key=other' });
    expect(r.status).toBe(200);
    const { body } = await getJson(`${c.url}/v1/summary`);
    expect(body.models.find((m: any) => m.modelId === 'beacon-model')).toMatchObject({ accuracy: 0.5, feedback: 2 });
  });

  it('counts duplicate ids once, within and across batches', async () => {
    const model = { modelId: 'dupe-model', modelVersion: '1' };
    const events = Array.from({ length: 10 }, () => inferenceEvent(model));
    expect((await postEvents(c.url, { siteKey: 'demo', events })).body).toEqual({
      accepted: 10,
      stored: 10,
      duplicates: 0,
      rejected: [],
      deferred: [],
    });
    // A client replaying from IndexedDB resends the same ids, plus one new event repeated in-batch.
    const extra = inferenceEvent(model);
    const replay = await postEvents(c.url, { siteKey: 'demo', events: [...events, extra, extra] });
    expect(replay.body).toEqual({ accepted: 12, stored: 1, duplicates: 11, rejected: [], deferred: [] });
    const { body } = await getJson(`${c.url}/v1/summary`);
    expect(body.groups.find((g: any) => g.modelId === 'dupe-model').count).toBe(11);
    const metrics = (await getJson(`${c.url}/metrics`)).body as string;
    expect(metrics).toMatch(/^ondevice_duplicate_events_total 11$/m);
  });

  it('exposes Prometheus metrics', async () => {
    const failedInferences = (text: string) => Number(/^ondevice_errors_total\{code="INFERENCE_FAILED"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    const before = failedInferences(await (await fetch(`${c.url}/metrics`)).text());
    const model = { modelId: 'metrics-model', modelVersion: '7' };
    const events = [
      ...Array.from({ length: 30 }, () => inferenceEvent({ ...model, backend: 'wasm', ms: 50 })),
      errorEvent(model),
      errorEvent(model),
    ];
    expect((await postEvents(c.url, { siteKey: 'demo', events })).status).toBe(200);
    const res = await fetch(`${c.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toMatch(/^ondevice_events_total\{type="inference"\} \d+$/m);
    expect(failedInferences(text)).toBe(before + 2);
    expect(text).toContain('# TYPE ondevice_inference_duration_seconds histogram');
    expect(text).toMatch(/^ondevice_inference_duration_seconds_count\{model_id="metrics-model",model_version="7",backend="wasm"\} 30$/m);
    expect(text).toMatch(/^ondevice_alerts_firing\{rule="accuracy-drop"\} \d+$/m);
  });

  it('rejects with the right status and a JSON error body', async () => {
    const good = { siteKey: 'demo', events: [inferenceEvent()] };
    const cases: Array<[string, Promise<{ status: number; body: any }>, number, string]> = [
      ['bad JSON', postEvents(c.url, '{"events": [', {}), 400, 'INVALID_JSON'],
      ['not a batch', postEvents(c.url, { siteKey: 'demo', events: {} }), 400, 'INVALID_BATCH'],
      ['empty batch', postEvents(c.url, { siteKey: 'demo', events: [] }), 400, 'INVALID_BATCH'],
      ['wrong content type', postEvents(c.url, good, { contentType: 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['wrong charset', postEvents(c.url, good, { contentType: 'text/plain; charset=latin1' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['unknown site key', postEvents(c.url, { ...good, siteKey: 'nope' }), 403, 'UNKNOWN_SITE_KEY'],
      ['unknown site key in URL', postEvents(c.url, { events: good.events }, { query: '?key=nope' }), 403, 'UNKNOWN_SITE_KEY'],
      ['missing site key', postEvents(c.url, { events: good.events }), 403, 'UNKNOWN_SITE_KEY'],
      ['site keys disagree', postEvents(c.url, good, { query: '?key=other' }), 400, 'SITE_KEY_MISMATCH'],
      ['too large', postEvents(c.url, { siteKey: 'demo', events: [], pad: 'x'.repeat(300 * 1024) }), 413, 'BODY_TOO_LARGE'],
    ];
    for (const [name, pending, status, code] of cases) {
      const r = await pending;
      expect([name, r.status, r.body.code]).toEqual([name, status, code]);
      expect(typeof r.body.error).toBe('string');
      expect(typeof r.body.path).toBe('string');
    }
    const unknownBatchKey = await postEvents(c.url, { siteKey: 'demo', events: [inferenceEvent()], extra: 1 });
    expect(unknownBatchKey.body).toMatchObject({ code: 'INVALID_BATCH', path: '$.extra' });
    expect((await fetch(`${c.url}/v1/events`)).status).toBe(405);
  });

  const storedIds = (ids: string[]) => {
    const db = new Database(c.dbPath, { readonly: true });
    try {
      const found = db.prepare(`SELECT id FROM events WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as { id: string }[];
      return found.map((r) => r.id).sort();
    } finally {
      db.close();
    }
  };

  it('stores the valid events of a batch and lists each invalid one with id, code and path', async () => {
    const model = { modelId: 'partial-model', modelVersion: '1' };
    const good = [inferenceEvent(model), errorEvent(model), inferenceEvent(model)];
    const badMs = { ...inferenceEvent(model), ms: 'fast' };
    const badKey = { ...inferenceEvent(model), rawInput: [1, 2, 3] };
    const badId = { ...inferenceEvent(model), id: 'no spaces allowed' };
    const r = await postEvents(c.url, { siteKey: 'demo', events: [good[0], badMs, good[1], badKey, badId, good[2]] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 3,
      stored: 3,
      duplicates: 0,
      rejected: [
        { id: badMs.id, code: 'INVALID_EVENT', path: '$.events[1].ms' },
        { id: badKey.id, code: 'INVALID_EVENT', path: '$.events[3].rawInput' },
        { id: null, code: 'INVALID_EVENT', path: '$.events[4].id' },
      ],
      deferred: [],
    });
    expect(storedIds([...good, badMs, badKey].map((e) => e.id))).toEqual(good.map((e) => e.id).sort());
    // A batch with nothing valid is still answered (200, nothing stored), so the client can drop it knowingly.
    const none = await postEvents(c.url, { siteKey: 'demo', events: [badMs] });
    expect(none.body).toEqual({
      accepted: 0,
      stored: 0,
      duplicates: 0,
      rejected: [{ id: badMs.id, code: 'INVALID_EVENT', path: '$.events[0].ms' }],
      deferred: [],
    });
  });

  it('trusts client time only within [receive − 7 days, receive + 5 min]', async () => {
    const now = Date.now();
    const model = { modelId: 'clock-model', modelVersion: '1' };
    // Margins of a minute either side keep the request's own travel time out of the verdict.
    const inside = [inferenceEvent({ ...model, ts: now - LIMITS.maxEventAgeMs + 60_000 }), inferenceEvent({ ...model, ts: now + 60_000 })];
    const tooOld = inferenceEvent({ ...model, ts: now - LIMITS.maxEventAgeMs - 60_000 });
    const ahead = inferenceEvent({ ...model, ts: now + LIMITS.maxClockSkewMs + 60_000 });
    const epoch2020 = inferenceEvent({ ...model, ts: Date.UTC(2020, 0, 2) });
    const r = await postEvents(c.url, { siteKey: 'demo', events: [tooOld, inside[0], ahead, inside[1], epoch2020] });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 2,
      stored: 2,
      duplicates: 0,
      rejected: [
        { id: tooOld.id, code: 'TIMESTAMP_OUT_OF_RANGE', path: '$.events[0].ts' },
        { id: ahead.id, code: 'TIMESTAMP_OUT_OF_RANGE', path: '$.events[2].ts' },
        { id: epoch2020.id, code: 'TIMESTAMP_OUT_OF_RANGE', path: '$.events[4].ts' },
      ],
      deferred: [],
    });
    expect(storedIds([...inside, tooOld, ahead, epoch2020].map((e) => e.id))).toEqual(inside.map((e) => e.id).sort());
  });

  it('stops reading an oversized body early, even without Content-Length', async () => {
    // A streamed body (chunked) has no Content-Length to reject up front.
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 20) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${c.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
      signal: AbortSignal.timeout(10_000),
    } as RequestInit).catch((e: Error) => e);
    // Either the 413 arrives, or the server cut the stream off before the client finished sending.
    if (res instanceof Error) expect(res.message).toMatch(/fetch failed|terminated|other side closed|reset/i);
    else expect(res.status).toBe(413);
    expect((await getJson(`${c.url}/v1/health`)).status).toBe(200);
  });
});

describe('collector CORS and rate limiting', () => {
  let c: StartedCollector;

  beforeAll(async () => {
    c = await startCollector({
      env: {
        COLLECTOR_ALLOWED_ORIGINS: 'https://app.example',
        COLLECTOR_RATE_LIMIT_PER_SECOND: '1',
        COLLECTOR_RATE_LIMIT_BURST: '4',
      },
    });
  });
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it('answers the preflight for allowed origins only and checks Origin on POST', async () => {
    const preflight = (origin: string) =>
      fetch(`${c.url}/v1/events`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight('https://app.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('content-type');
    expect((await preflight('https://evil.example')).status).toBe(403);

    const batch = { siteKey: 'demo', events: [inferenceEvent()] };
    const good = await postEvents(c.url, batch, { headers: { origin: 'https://app.example' } });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const bad = await postEvents(c.url, { siteKey: 'demo', events: [inferenceEvent()] }, { headers: { origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    expect(bad.body.code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('rate limits per client with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await postEvents(c.url, { siteKey: 'demo', events: [inferenceEvent()] });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(4);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});
