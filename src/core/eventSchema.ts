// The telemetry event schema: the one source for the browser client's types and the collector's
// validation. Pure TypeScript on purpose — it is bundled into pages and workers, so no Node imports
// and no globals touched at module load.
import { ERROR_CODES, type ErrorCode } from './OnDeviceError';

export const EVENT_TYPES = ['session', 'model_load', 'inference', 'error', 'feedback'] as const;
export type TelemetryEventType = (typeof EVENT_TYPES)[number];

export const TELEMETRY_BACKENDS = ['webgpu', 'wasm'] as const;
export type TelemetryBackend = (typeof TELEMETRY_BACKENDS)[number];

/** Limits shared by client (batching) and collector (rejection). Units are in the names. */
export const LIMITS = {
  maxEventsPerBatch: 500,
  maxBodyBytes: 256 * 1024,
  /** fetch keepalive shares 64 KiB across all in-flight keepalive requests of a page (Fetch spec §4.5). */
  maxKeepaliveBytes: 64 * 1024,
  /** The schema is at most 5 levels deep (batch → events → event → device → webgpu); anything deeper is hostile. */
  maxDepth: 6,
  maxIdLength: 64,
  maxModelIdLength: 128,
  maxModelVersionLength: 64,
  maxSiteKeyLength: 64,
  maxMessageLength: 1024,
  maxDeviceStringLength: 256,
  maxBrowserBrandLength: 64,
  maxBrowserVersionLength: 32,
  maxFallbackReasonLength: 256,
  maxLabelLength: 256,
  maxInputNameLength: 64,
  maxInputs: 16,
  maxRank: 8,
  maxDim: 2 ** 31 - 1,
  maxDurationMs: 60 * 60 * 1000,
  maxModelBytes: 2 ** 40,
  maxAbsScore: 1e9,
  /** 2020-01-01 and 2100-01-01: anything outside is a broken clock or a hostile client. */
  minTsMs: Date.UTC(2020, 0, 1),
  maxTsMs: Date.UTC(2100, 0, 1),
} as const;

/** Identifier-like strings (ids, model ids, versions, site keys) are restricted so they are safe as metric labels. */
const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
const MODEL_PATTERN = /^[A-Za-z0-9_.:@/+-]+$/;
const MIN_EVENT_ID_LENGTH = 8;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface DeviceInfo {
  /** null when `navigator.gpu` or an adapter is missing. */
  webgpu: WebGpuAdapterInfo | null;
  hardwareConcurrency: number;
  /** null where `navigator.deviceMemory` does not exist (Firefox, Safari). */
  deviceMemory: number | null;
  crossOriginIsolated: boolean;
  browser: { brand: string; version: string };
}

interface EventBase {
  /** Unique event id (uuid or ulid); the collector dedupes on it. */
  id: string;
  /** Client clock, ms since epoch. */
  ts: number;
  installId: string;
  sessionId: string;
  modelId: string;
  modelVersion: string;
}

export interface SessionEvent extends Omit<EventBase, 'modelVersion'> {
  type: 'session';
  modelVersion?: string;
  device: DeviceInfo;
}

export interface ModelLoadEvent extends EventBase {
  type: 'model_load';
  backend: TelemetryBackend;
  fallbackReason?: string;
  bytes: number;
  fromCache: boolean;
  ms: number;
}

/** A summary of a model output — never the raw input or output tensors. */
export interface OutputSummary {
  topClass?: string | number;
  score?: number;
  /** Lets a later `feedback` event refer to this prediction. */
  predictionId?: string;
}

export interface InferenceEvent extends EventBase {
  type: 'inference';
  backend: TelemetryBackend;
  ms: number;
  inputDims: Record<string, number[]>;
  output: OutputSummary;
}

export interface ErrorReportEvent extends EventBase {
  type: 'error';
  code: ErrorCode;
  message: string;
}

export interface FeedbackEvent extends EventBase {
  type: 'feedback';
  predictionId: string;
  label: string | number;
  predicted?: string | number;
}

export type TelemetryEvent = SessionEvent | ModelLoadEvent | InferenceEvent | ErrorReportEvent | FeedbackEvent;

/** The body of `POST /v1/events`. `siteKey` may instead travel as `?key=` in the URL. */
export interface EventBatch {
  siteKey?: string;
  events: TelemetryEvent[];
}

export type BatchValidation =
  { ok: true; siteKey: string | undefined; events: TelemetryEvent[] } | { ok: false; error: string; path: string };

class Invalid {
  constructor(
    readonly error: string,
    readonly path: string,
  ) {}
}

/**
 * Strictly validate a parsed batch: known keys only, exact types, enums, lengths and ranges.
 * Returns a value, never throws.
 *
 * @example
 * const result = validateBatch(JSON.parse(body));
 * if (!result.ok) respond(400, { error: result.error, path: result.path });
 */
export function validateBatch(value: unknown): BatchValidation {
  try {
    const batch = object(value, '$', 0, ['events'], ['siteKey']);
    const siteKey = batch.siteKey === undefined ? undefined : id(batch.siteKey, '$.siteKey', LIMITS.maxSiteKeyLength, 1);
    if (!Array.isArray(batch.events)) throw new Invalid('must be an array', '$.events');
    if (batch.events.length === 0) throw new Invalid('must not be empty', '$.events');
    if (batch.events.length > LIMITS.maxEventsPerBatch) {
      throw new Invalid(`at most ${LIMITS.maxEventsPerBatch} events per batch`, '$.events');
    }
    const events = batch.events.map((e, i) => event(e, `$.events[${i}]`));
    return { ok: true, siteKey, events };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.error, path: e.path };
    // A RangeError from a pathological value must not escape as a 500.
    return { ok: false, error: 'invalid batch', path: '$' };
  }
}

const COMMON_KEYS = ['type', 'id', 'ts', 'installId', 'sessionId', 'modelId'];
const TYPE_KEYS: Record<TelemetryEventType, { required: string[]; optional: string[] }> = {
  session: { required: [...COMMON_KEYS, 'device'], optional: ['modelVersion'] },
  model_load: { required: [...COMMON_KEYS, 'modelVersion', 'backend', 'bytes', 'fromCache', 'ms'], optional: ['fallbackReason'] },
  inference: { required: [...COMMON_KEYS, 'modelVersion', 'backend', 'ms', 'inputDims', 'output'], optional: [] },
  error: { required: [...COMMON_KEYS, 'modelVersion', 'code', 'message'], optional: [] },
  feedback: { required: [...COMMON_KEYS, 'modelVersion', 'predictionId', 'label'], optional: ['predicted'] },
};

function event(value: unknown, path: string): TelemetryEvent {
  const raw = object(value, path, 2, ['type'], null);
  const type = oneOf(raw.type, `${path}.type`, EVENT_TYPES);
  const keys = TYPE_KEYS[type];
  const o = object(value, path, 2, keys.required, keys.optional);
  const base = {
    id: id(o.id, `${path}.id`, LIMITS.maxIdLength, MIN_EVENT_ID_LENGTH),
    ts: integer(o.ts, `${path}.ts`, LIMITS.minTsMs, LIMITS.maxTsMs),
    installId: id(o.installId, `${path}.installId`, LIMITS.maxIdLength, 1),
    sessionId: id(o.sessionId, `${path}.sessionId`, LIMITS.maxIdLength, 1),
    modelId: modelString(o.modelId, `${path}.modelId`, LIMITS.maxModelIdLength),
  };
  const version = () => modelString(o.modelVersion, `${path}.modelVersion`, LIMITS.maxModelVersionLength);
  switch (type) {
    case 'session': {
      const e: SessionEvent = { type, ...base, device: device(o.device, `${path}.device`) };
      if (o.modelVersion !== undefined) e.modelVersion = version();
      return e;
    }
    case 'model_load': {
      const e: ModelLoadEvent = {
        type,
        ...base,
        modelVersion: version(),
        backend: oneOf(o.backend, `${path}.backend`, TELEMETRY_BACKENDS),
        bytes: integer(o.bytes, `${path}.bytes`, 0, LIMITS.maxModelBytes),
        fromCache: boolean(o.fromCache, `${path}.fromCache`),
        ms: number(o.ms, `${path}.ms`, 0, LIMITS.maxDurationMs),
      };
      if (o.fallbackReason !== undefined) {
        e.fallbackReason = text(o.fallbackReason, `${path}.fallbackReason`, LIMITS.maxFallbackReasonLength);
      }
      return e;
    }
    case 'inference':
      return {
        type,
        ...base,
        modelVersion: version(),
        backend: oneOf(o.backend, `${path}.backend`, TELEMETRY_BACKENDS),
        ms: number(o.ms, `${path}.ms`, 0, LIMITS.maxDurationMs),
        inputDims: inputDims(o.inputDims, `${path}.inputDims`),
        output: output(o.output, `${path}.output`),
      };
    case 'error':
      return {
        type,
        ...base,
        modelVersion: version(),
        code: oneOf(o.code, `${path}.code`, ERROR_CODES),
        message: text(o.message, `${path}.message`, LIMITS.maxMessageLength),
      };
    case 'feedback': {
      const e: FeedbackEvent = {
        type,
        ...base,
        modelVersion: version(),
        predictionId: id(o.predictionId, `${path}.predictionId`, LIMITS.maxIdLength, 1),
        label: classLabel(o.label, `${path}.label`),
      };
      if (o.predicted !== undefined) e.predicted = classLabel(o.predicted, `${path}.predicted`);
      return e;
    }
  }
}

function device(value: unknown, path: string): DeviceInfo {
  const o = object(value, path, 3, ['webgpu', 'hardwareConcurrency', 'deviceMemory', 'crossOriginIsolated', 'browser'], []);
  let webgpu: WebGpuAdapterInfo | null = null;
  if (o.webgpu !== null) {
    const g = object(o.webgpu, `${path}.webgpu`, 4, ['vendor', 'architecture', 'device', 'description'], []);
    const s = (k: keyof WebGpuAdapterInfo) => text(g[k], `${path}.webgpu.${k}`, LIMITS.maxDeviceStringLength);
    webgpu = { vendor: s('vendor'), architecture: s('architecture'), device: s('device'), description: s('description') };
  }
  const b = object(o.browser, `${path}.browser`, 4, ['brand', 'version'], []);
  return {
    webgpu,
    hardwareConcurrency: integer(o.hardwareConcurrency, `${path}.hardwareConcurrency`, 1, 4096),
    deviceMemory: o.deviceMemory === null ? null : number(o.deviceMemory, `${path}.deviceMemory`, 0, 4096),
    crossOriginIsolated: boolean(o.crossOriginIsolated, `${path}.crossOriginIsolated`),
    browser: {
      brand: text(b.brand, `${path}.browser.brand`, LIMITS.maxBrowserBrandLength),
      version: text(b.version, `${path}.browser.version`, LIMITS.maxBrowserVersionLength),
    },
  };
}

function inputDims(value: unknown, path: string): Record<string, number[]> {
  const o = object(value, path, 3, [], null);
  const names = Object.keys(o);
  if (names.length > LIMITS.maxInputs) throw new Invalid(`at most ${LIMITS.maxInputs} inputs`, path);
  // A null-prototype record: input names are integrator-chosen and must never hit Object.prototype.
  const dims: Record<string, number[]> = Object.create(null);
  for (const name of names) {
    const p = `${path}.${name}`;
    text(name, p, LIMITS.maxInputNameLength);
    if (name.length === 0) throw new Invalid('input name must not be empty', p);
    const d = o[name];
    if (!Array.isArray(d)) throw new Invalid('must be an array of dims', p);
    if (d.length > LIMITS.maxRank) throw new Invalid(`rank at most ${LIMITS.maxRank}`, p);
    dims[name] = d.map((n, i) => integer(n, `${p}[${i}]`, 0, LIMITS.maxDim));
  }
  return dims;
}

function output(value: unknown, path: string): OutputSummary {
  const o = object(value, path, 3, [], ['topClass', 'score', 'predictionId']);
  const out: OutputSummary = {};
  if (o.topClass !== undefined) out.topClass = classLabel(o.topClass, `${path}.topClass`);
  if (o.score !== undefined) out.score = number(o.score, `${path}.score`, -LIMITS.maxAbsScore, LIMITS.maxAbsScore);
  if (o.predictionId !== undefined) out.predictionId = id(o.predictionId, `${path}.predictionId`, LIMITS.maxIdLength, 1);
  return out;
}

/**
 * A plain JSON object with exactly the allowed keys. `optional: null` means "any key" (a record),
 * still subject to the forbidden-key check.
 */
function object(
  value: unknown,
  path: string,
  depth: number,
  required: readonly string[],
  optional: readonly string[] | null,
): Record<string, unknown> {
  if (depth > LIMITS.maxDepth) throw new Invalid('nested too deeply', path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Invalid('must be an object', path);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new Invalid('must be a plain object', path);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (FORBIDDEN_KEYS.has(key)) throw new Invalid(`forbidden key "${key}"`, `${path}.${key}`);
    if (optional !== null && !required.includes(key) && !optional.includes(key)) {
      throw new Invalid('unknown key', `${path}.${key.slice(0, 64)}`);
    }
  }
  for (const key of required) {
    if (!Object.prototype.hasOwnProperty.call(o, key)) throw new Invalid('is required', `${path}.${key}`);
  }
  return o;
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new Invalid(`must be one of ${allowed.join(', ')}`, path);
  }
  return value as T;
}

function text(value: unknown, path: string, maxLength: number): string {
  if (typeof value !== 'string') throw new Invalid('must be a string', path);
  if (value.length > maxLength) throw new Invalid(`at most ${maxLength} characters`, path);
  // Lone surrogates (legal in JSON escapes, illegal in UTF-8) would break every consumer downstream;
  // NUL breaks C consumers of the database.
  // eslint-disable-next-line no-control-regex -- NUL is exactly what this rejects
  if (/\p{Cs}|\u0000/u.test(value)) throw new Invalid('must be well-formed text', path);
  return value;
}

function id(value: unknown, path: string, maxLength: number, minLength: number): string {
  const s = text(value, path, maxLength);
  if (s.length < minLength) throw new Invalid(`at least ${minLength} characters`, path);
  if (!ID_PATTERN.test(s)) throw new Invalid('may only contain A-Z a-z 0-9 _ . : -', path);
  return s;
}

function modelString(value: unknown, path: string, maxLength: number): string {
  const s = text(value, path, maxLength);
  if (!MODEL_PATTERN.test(s)) throw new Invalid('may only contain A-Z a-z 0-9 _ . : @ / + -', path);
  return s;
}

function classLabel(value: unknown, path: string): string | number {
  if (typeof value === 'number') return integer(value, path, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const s = text(value, path, LIMITS.maxLabelLength);
  if (s.length === 0) throw new Invalid('must not be empty', path);
  return s;
}

function number(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Invalid('must be a finite number', path);
  if (value < min || value > max) throw new Invalid(`must be within [${min}, ${max}]`, path);
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  const n = number(value, path, min, max);
  if (!Number.isInteger(n)) throw new Invalid('must be an integer', path);
  return n;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new Invalid('must be a boolean', path);
  return value;
}
