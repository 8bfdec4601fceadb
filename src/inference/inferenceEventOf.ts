import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { issuePath } from '../core/schema/issuePath';
import { InferenceEventSchema, type InferenceEvent } from '../core/schema/TelemetryEvent';
import type { ServerInferenceRecord } from './ServerInferenceRecord';

export type InferenceEventResult = { ok: true; event: InferenceEvent } | { ok: false; error: string };

/**
 * A server inference as the telemetry `inference` event the collector stores (`backend: 'server'`),
 * checked against the same schema the collector's ingest uses. An event it would reject (a dynamic dim
 * past the schema's limits, say) comes back as an error instead, so the caller can count it.
 */
export function inferenceEventOf(record: ServerInferenceRecord): InferenceEventResult {
  const result = v.safeParse(InferenceEventSchema, {
    type: 'inference',
    id: randomUUID(),
    ts: record.timestamp,
    installId: record.installId,
    sessionId: record.sessionId,
    modelId: record.modelId,
    modelVersion: record.modelVersion,
    backend: record.backend,
    ms: record.ms,
    inputDims: record.inputDims,
    output: {},
  });
  if (result.success) return { ok: true, event: result.output };
  return { ok: false, error: `${issuePath(result.issues[0])}: ${result.issues[0].message}` };
}
