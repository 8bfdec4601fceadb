import Database from 'better-sqlite3';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorEvent, feedbackEvent, inferenceEvent, modelLoadEvent, sessionEvent } from './makeEvents';
import { getJson, startCollector, type StartedCollector } from './startCollector';
import { waitFor } from '../helpers/waitFor';

interface Payload {
  name: string;
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
  query?: string;
  /**
   * A well-formed batch with bad events: answered 200, the events at `rejected` listed as invalid and
   * exactly the ids in `valid` stored. Absent: the body is rejected whole with a 4xx, nothing stored.
   */
  events?: { rejected: number[]; valid: string[] };
}

/** mulberry32: a seeded PRNG so a failing payload is reproducible. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
const JSON_HEADERS = { 'content-type': 'application/json' };
const goodEvents = () => [
  sessionEvent(),
  modelLoadEvent(),
  inferenceEvent({ predictionId: 'p-1' }),
  errorEvent(),
  feedbackEvent({ predictionId: 'p-1' }),
];
const json = (name: string, value: unknown, headers: Record<string, string> = JSON_HEADERS): Payload => ({
  name,
  body: enc.encode(JSON.stringify(value)),
  headers,
});
const text = (name: string, body: string, headers: Record<string, string> = JSON_HEADERS): Payload => ({
  name,
  body: enc.encode(body),
  headers,
});

/** Every leaf and object path of an event, e.g. ['device', 'browser', 'brand']. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setPath(target: any, path: string[], value: unknown, remove = false) {
  const parent = path.slice(0, -1).reduce((o, k) => o[k], target);
  if (remove) delete parent[path[path.length - 1]];
  else parent[path[path.length - 1]] = value;
}

const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  [],
  {},
  '',
  'x'.repeat(5000),
  -1,
  1.5,
  2 ** 53 + 2,
  'str',
  [1, 2],
  { nested: { deeper: 1 } },
  '\ud800',
  'a\u0000b',
];

function generatePayloads(): Payload[] {
  const random = prng(20250105);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const payloads: Payload[] = [];

  // 1. One mutated field in an otherwise valid batch (so a partial store would show up).
  const templates = goodEvents();
  let attempts = 0;
  while (payloads.length < 150 && attempts++ < 5000) {
    const events: any[] = JSON.parse(JSON.stringify(goodEvents()));
    const index = Math.floor(random() * events.length);
    const candidates = paths(templates[index]);
    const path = pick(candidates);
    const mode = random();
    let name: string;
    if (mode < 0.2) {
      // Removing an optional field leaves a valid event: skip those.
      if (
        ['fallbackReason', 'predicted', 'topClass', 'score', 'predictionId', 'modelVersion'].includes(path[path.length - 1]) &&
        path.length <= 2 &&
        events[index].type !== 'feedback'
      )
        continue;
      if (path[0] === 'output' || (path[0] === 'inputDims' && path.length > 1)) continue;
      if (path[0] === 'modelVersion' && events[index].type === 'session') continue;
      setPath(events[index], path, undefined, true);
      name = `delete ${events[index].type}.${path.join('.')}`;
    } else if (mode < 0.3) {
      // Extra properties on an array vanish in JSON; those would be valid.
      if (Array.isArray(path.slice(0, -1).reduce((o: any, k) => o[k], events[index]))) continue;
      setPath(events[index], [...path.slice(0, -1), `unknown_${Math.floor(random() * 1000)}`], 1);
      name = `unknown key beside ${events[index].type}.${path.join('.')}`;
    } else {
      const original = path.reduce((o: any, k) => o?.[k], events[index]);
      const value = pick(
        WRONG_VALUES.filter(
          (v) => (JSON.stringify(v) !== JSON.stringify(original) && typeof v !== typeof original) || typeof v === 'string',
        ),
      );
      /* eslint-disable no-control-regex -- NUL and lone surrogates are the hostile inputs under test */
      // Some replacements are legitimately valid (any string is a valid label or message): skip them.
      if (typeof value === 'string' && typeof original === 'string' && !/\u0000|\ud800|^$|x{5000}/.test(value)) continue;
      if (path[0] === 'inputDims' && path.length === 2 && Array.isArray(value) && value.every((n) => Number.isInteger(n) && n >= 0))
        continue;
      if (
        ['label', 'predicted', 'topClass'].includes(path[path.length - 1]) &&
        (typeof value === 'string' ? value.length > 0 && value.length <= 256 && !/\u0000|\ud800/.test(value) : Number.isSafeInteger(value))
      )
        continue;
      /* eslint-enable no-control-regex */
      if (path[path.length - 1] === 'deviceMemory' && value === null) continue;
      if (path[path.length - 1] === 'webgpu' && value === null) continue;
      if (path[path.length - 1] === 'score' && typeof value === 'number') continue;
      if (typeof original === 'boolean' && typeof value === 'boolean') continue;
      if (typeof value === 'string' && value.length <= 32 && typeof original === 'string' && path.join('.').startsWith('device')) continue;
      setPath(events[index], path, value);
      name = `${events[index].type}.${path.join('.')} = ${JSON.stringify(value)?.slice(0, 30)}`;
    }
    const valid = events.filter((_e, i) => i !== index).map((e) => e.id as string);
    payloads.push({ ...json(name, { siteKey: 'demo', events }), events: { rejected: [index], valid } });
  }

  /** One bad event (JSON text) beside a good one: the bad one is rejected, the good one stored. */
  const besideGood = (name: string, badEventJson: string): Payload => {
    const good = errorEvent();
    return {
      ...text(name, `{"siteKey":"demo","events":[${badEventJson},${JSON.stringify(good)}]}`),
      events: { rejected: [0], valid: [good.id] },
    };
  };

  // 2. Prototype-pollution keys at every level.
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    const ev = () => JSON.stringify(inferenceEvent());
    payloads.push(text(`${key} in batch`, `{"siteKey":"demo","${key}":{"polluted":1},"events":[${ev()}]}`));
    payloads.push(besideGood(`${key} in event`, ev().replace('{', `{"${key}":{"polluted":1},`)));
    payloads.push(besideGood(`${key} in output`, ev().replace('"output":{', `"output":{"${key}":{"polluted":1},`)));
    payloads.push(besideGood(`${key} as input name`, ev().replace('"inputDims":{', `"inputDims":{"${key}":[1],`)));
    const session = JSON.stringify(sessionEvent());
    payloads.push(besideGood(`${key} in device`, session.replace('"device":{', `"device":{"${key}":{"polluted":1},`)));
  }

  // 3. Deep nesting.
  const deepArray = '['.repeat(20000) + ']'.repeat(20000);
  const deepObject = '{"a":'.repeat(20000) + '1' + '}'.repeat(20000);
  payloads.push(besideGood('deep array as event', deepArray));
  payloads.push(
    besideGood('deep object as output', JSON.stringify(inferenceEvent()).replace(/"output":\{[^}]*\}/, `"output":${deepObject}`)),
  );
  payloads.push(text('deep array as body', deepArray));
  payloads.push(text('deep object as body', deepObject));

  // 4. Huge and odd numbers, written as JSON text.
  const ev = () => JSON.stringify(inferenceEvent());
  for (const n of ['1e400', '-1e400', '1e309', '123456789012345678901234567890', '1e-400', '-0.0e999999']) {
    // 1e-400 and -0.0e999999 parse to a valid 0 ms: an extra key keeps the event invalid.
    payloads.push(
      besideGood(
        `ms = ${n}`,
        ev()
          .replace('"ms":12', `"ms":${n}`)
          .replace(/"ms":(1e-400|-0\.0e999999)/, (_m, v) => `"ms":${v},"extra":1`),
      ),
    );
    payloads.push(besideGood(`ts = ${n}`, ev().replace(/"ts":\d+/, `"ts":${n}`)));
  }
  for (const n of ['NaN', 'Infinity', '-Infinity', '0x10', '1_000', '.5', '+1', '01']) {
    payloads.push(text(`ms = ${n} (not JSON)`, `{"siteKey":"demo","events":[${ev().replace('"ms":12', `"ms":${n}`)}]}`));
  }

  // 5. Invalid UTF-8 inside an otherwise valid batch.
  const message = JSON.stringify({ siteKey: 'demo', events: [errorEvent({ message: 'MARK' })] });
  const [before, after] = message.split('MARK').map((s) => enc.encode(s));
  for (const [name, bytes] of [
    ['lone 0xff', [0xff]],
    ['bad continuation', [0xc3, 0x28]],
    ['overlong slash', [0xc0, 0xaf]],
    ['UTF-16 surrogate as UTF-8', [0xed, 0xa0, 0x80]],
    ['truncated 3-byte sequence', [0xe2, 0x82]],
    ['code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['latin-1 é', [0xe9]],
  ] as const) {
    payloads.push({ name: `invalid UTF-8: ${name}`, body: new Uint8Array([...before, ...bytes, ...after]), headers: JSON_HEADERS });
  }
  payloads.push(besideGood('lone surrogate escape', JSON.stringify(errorEvent({ message: 'MARK' })).replace('MARK', '\\ud800')));

  // 6. Not JSON, or not a batch.
  for (const body of [
    '',
    ' ',
    'null',
    'true',
    '[]',
    '"events"',
    '42',
    '{',
    '{"events":[}',
    '{"events":[]}',
    "{'events':[]}",
    '{"events":[] // c\n}',
    `${message}garbage`,
    `${message},${message}`,
    '{"siteKey":"demo","events":{}}',
    '{"siteKey":"demo","events":null}',
    '{"siteKey":123,"events":[]}',
  ]) {
    payloads.push(text(`body ${JSON.stringify(body.slice(0, 24))}`, body));
  }

  // 7. Batch limits.
  payloads.push(json('501 events', { siteKey: 'demo', events: Array.from({ length: 501 }, () => inferenceEvent()) }));
  payloads.push(json('over 256 KiB', { siteKey: 'demo', events: goodEvents(), pad: 'x'.repeat(270 * 1024) }));
  payloads.push(
    text('over 256 KiB of whitespace', `${' '.repeat(257 * 1024)}${JSON.stringify({ siteKey: 'demo', events: goodEvents() })}`),
  );

  // 8. Media types and encodings.
  const good = JSON.stringify({ siteKey: 'demo', events: goodEvents() });
  for (const contentType of [
    'application/xml',
    'multipart/form-data; boundary=x',
    'text/html',
    'application/x-www-form-urlencoded',
    'text/plain; charset=utf-16',
    'application/json; charset=iso-8859-1',
  ]) {
    payloads.push(text(`content-type ${contentType}`, good, { 'content-type': contentType }));
  }
  payloads.push({ name: 'no content-type', body: enc.encode(good), headers: {} });
  payloads.push(text('gzip encoding', good, { 'content-type': 'application/json', 'content-encoding': 'gzip' }));

  // 9. Site keys.
  payloads.push(text('unknown site key', good.replace('"siteKey":"demo"', '"siteKey":"unknown"')));
  payloads.push({ ...text('unknown key in URL', good.replace('"siteKey":"demo",', '')), query: '?key=unknown' });
  payloads.push({ ...text('URL and body keys differ', good), query: '?key=other' });
  payloads.push(text('no site key', good.replace('"siteKey":"demo",', '')));
  payloads.push(text('site key with spaces', good.replace('"siteKey":"demo"', '"siteKey":"de mo"')));
  return payloads;
}

describe('collector fuzz: malformed payloads', () => {
  let c: StartedCollector;
  const payloads = generatePayloads();

  beforeAll(async () => {
    // The probe reports on the collector's own prototypes: pollution there is what a payload could cause.
    const probe = `--import=${pathToFileURL('test/collector/prototypeProbe.mjs').href}`;
    const nodeOptions = [process.env.NODE_OPTIONS, probe].filter(Boolean).join(' ');
    c = await startCollector({ env: { COLLECTOR_SITE_KEYS: 'demo,other', NODE_OPTIONS: nodeOptions } });
  });

  /** Ask the collector process (SIGUSR2) which built-in prototype properties changed since it started. */
  const prototypeChanges = async (): Promise<string[]> => {
    const seen = c.server.output().split('prototype-probe ').length;
    c.server.process.kill('SIGUSR2');
    const line = await waitFor(
      'the prototype probe of the collector process',
      async () => {
        const parts = c.server.output().split('prototype-probe ');
        return parts.length > seen ? parts[parts.length - 1].split('\n')[0] : undefined;
      },
      { timeoutMs: 10_000 },
    );
    return JSON.parse(line) as string[];
  };
  afterAll(async () => {
    await c?.stop();
    c?.cleanup();
  });

  it(`rejects ${payloads.length} malformed payloads (whole bodies with 4xx, bad events one by one), stays up, stores only valid events`, async () => {
    expect(payloads.length).toBeGreaterThanOrEqual(200);
    // The probe is live before anything is sent (so a later answer is not a probe that never loaded).
    expect(await prototypeChanges()).toEqual([]);
    const results: Array<{ payload: Payload; status: number; body: string }> = [];
    const queue = [...payloads];
    // A few connections at once, like a real client population; bounded by the payload list.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const res = await fetch(`${c.url}/v1/events${p.query ?? ''}`, {
            method: 'POST',
            headers: p.headers,
            body: p.body,
            signal: AbortSignal.timeout(15_000),
          }).catch((e: Error) => e);
          if (res instanceof Error) results.push({ payload: p, status: -1, body: res.message });
          else results.push({ payload: p, status: res.status, body: await res.text() });
        }
      }),
    );
    const wrongStatus = results
      .filter((r) => (r.payload.events ? r.status !== 200 : r.status < 400 || r.status >= 500))
      .map((r) => `${r.payload.name}: ${r.status} ${r.body.slice(0, 200)}`);
    expect(wrongStatus).toEqual([]);
    for (const { payload, body: text } of results) {
      const body = JSON.parse(text);
      if (payload.events) {
        // Exactly the bad events are listed, each at its own index, and every good one is acknowledged.
        const indexes = body.rejected.map((r: { path: string }) => Number(/^\$\.events\[(\d+)\]/.exec(r.path)?.[1]));
        expect([payload.name, indexes, body.rejected.map((r: { code: string }) => r.code)]).toEqual([
          payload.name,
          payload.events.rejected,
          payload.events.rejected.map(() => 'INVALID_EVENT'),
        ]);
        expect([payload.name, body.accepted]).toEqual([payload.name, payload.events.valid.length]);
      } else {
        expect(typeof body.error, payload.name).toBe('string');
        expect(typeof body.path, payload.name).toBe('string');
      }
    }
    expect([...new Set(results.map((r) => r.status))].sort()).toEqual([200, 400, 403, 413, 415]);

    expect((await getJson(`${c.url}/v1/health`)).status).toBe(200);
    // Stored: exactly the valid events of well-formed batches; nothing from a rejected body or a bad event.
    const expectedIds = payloads.flatMap((p) => p.events?.valid ?? []).sort();
    expect(expectedIds.length).toBeGreaterThan(150);
    const db = new Database(c.dbPath, { readonly: true });
    try {
      const stored = (db.prepare('SELECT id FROM events ORDER BY id').all() as { id: string }[]).map((r) => r.id);
      expect(stored).toEqual(expectedIds);
    } finally {
      db.close();
    }
    // The server still ingests normally afterwards.
    const ok = await fetch(`${c.url}/v1/events`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ siteKey: 'demo', events: goodEvents() }),
    });
    expect(ok.status).toBe(200);
    expect(await prototypeChanges()).toEqual([]);
  });
});
