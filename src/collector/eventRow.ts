import type { SampleEvent, TelemetryEvent } from '../core/eventSchema';
import type { InsertMeta } from './storeRows';

/** The columns of one `events` row, by name (the named parameters of INSERT_EVENT_SQL). */
export interface EventRow {
  id: string;
  type: string;
  ts: number;
  atMs: number;
  receivedMs: number;
  siteKey: string;
  installId: string;
  sessionId: string;
  modelId: string;
  modelVersion: string | null;
  backend: string | null;
  ms: number | null;
  bytes: number | null;
  fromCache: number | null;
  fallbackReason: string | null;
  topClass: string | null;
  score: number | null;
  predictionId: string | null;
  label: string | null;
  predicted: string | null;
  errorCode: string | null;
  deviceKey: string | null;
  payload: string;
}

/** The SQL insert the writer runs per event; exported so the benchmark measures the very same statement. */
export const INSERT_EVENT_SQL = `INSERT OR IGNORE INTO events (
  id, type, ts, at_ms, received_ms, site_key, install_id, session_id, model_id, model_version,
  backend, ms, bytes, from_cache, fallback_reason, top_class, score, prediction_id, label, predicted,
  error_code, device_key, payload
) VALUES (
  @id, @type, @ts, @atMs, @receivedMs, @siteKey, @installId, @sessionId, @modelId, @modelVersion,
  @backend, @ms, @bytes, @fromCache, @fallbackReason, @topClass, @score, @predictionId, @label, @predicted,
  @errorCode, @deviceKey, @payload
)`;

/** Map an event to its row. `payload` keeps the event exactly as the client sent it. */
export function eventRow(e: TelemetryEvent, meta: InsertMeta, payload: TelemetryEvent = e): EventRow {
  const row: EventRow = {
    id: e.id,
    type: e.type,
    ts: e.ts,
    // Windows (summaries, alerts, charts) run on the collector's clock: a client's `ts` is its own word
    // and anyone holding the public site key could otherwise place events in a drift baseline window.
    atMs: meta.receivedAtMs,
    receivedMs: meta.receivedAtMs,
    siteKey: meta.siteKey,
    installId: e.installId,
    sessionId: e.sessionId,
    modelId: e.modelId,
    modelVersion: e.modelVersion ?? null,
    backend: null,
    ms: null,
    bytes: null,
    fromCache: null,
    fallbackReason: null,
    topClass: null,
    score: null,
    predictionId: null,
    label: null,
    predicted: null,
    errorCode: null,
    deviceKey: null,
    payload: JSON.stringify(payload),
  };
  switch (e.type) {
    case 'session': {
      const gpu = e.device.webgpu;
      row.deviceKey = `${gpu ? gpu.vendor || 'unknown-gpu' : 'no-webgpu'} / ${e.device.browser.brand || 'unknown'}`;
      break;
    }
    case 'model_load':
      row.backend = e.backend;
      row.ms = e.ms;
      row.bytes = e.bytes;
      row.fromCache = e.fromCache ? 1 : 0;
      row.fallbackReason = e.fallbackReason ?? null;
      break;
    case 'inference':
      row.backend = e.backend;
      row.ms = e.ms;
      row.topClass = e.output.topClass === undefined ? null : String(e.output.topClass);
      row.score = e.output.score ?? null;
      row.predictionId = e.output.predictionId ?? null;
      break;
    case 'error':
      row.errorCode = e.code;
      break;
    case 'feedback':
      // Labels compare as strings: class 3 and "3" are the same class on purpose (clients mix both).
      row.predictionId = e.predictionId;
      row.label = String(e.label);
      row.predicted = e.predicted === undefined ? null : String(e.predicted);
      break;
    case 'sample': {
      // The inputs live in the samples table (SampleStore); the events row keeps the rest, so counts
      // and dedupe work as for any event and the events table stays small.
      row.predictionId = e.predictionId;
      row.label = String(e.label);
      row.predicted = e.predicted === undefined ? null : String(e.predicted);
      const { inputs, ...rest } = payload as SampleEvent;
      row.payload = JSON.stringify({
        ...rest,
        inputs: Object.fromEntries(Object.entries(inputs).map(([n, t]) => [n, { type: t.type, dims: t.dims }])),
      });
      break;
    }
  }
  return row;
}
