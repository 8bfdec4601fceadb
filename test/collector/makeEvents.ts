import { randomUUID } from 'node:crypto';
import type {
  ErrorReportEvent,
  FeedbackEvent,
  InferenceEvent,
  ModelLoadEvent,
  SessionEvent,
  TelemetryBackend,
} from '../../src/core/eventSchema';

const base = (overrides: { ts?: number; modelId?: string; modelVersion?: string; sessionId?: string; installId?: string }) => ({
  id: randomUUID(),
  ts: overrides.ts ?? Date.now(),
  installId: overrides.installId ?? 'install-1',
  sessionId: overrides.sessionId ?? 'session-1',
  modelId: overrides.modelId ?? 'mnist',
  modelVersion: overrides.modelVersion ?? '1',
});

export function sessionEvent(o: Partial<SessionEvent> & { vendor?: string | null; brand?: string } = {}): SessionEvent {
  const { vendor = 'nvidia', brand = 'Chrome', ...rest } = o;
  return {
    ...base(rest),
    type: 'session',
    device: {
      webgpu: vendor === null ? null : { vendor },
      browser: { brand },
    },
    ...rest,
  };
}

export function modelLoadEvent(o: Partial<ModelLoadEvent> = {}): ModelLoadEvent {
  return { ...base(o), type: 'model_load', backend: 'wasm', bytes: 1_000_000, fromCache: false, ms: 250, ...o };
}

export function inferenceEvent(
  o: Partial<Omit<InferenceEvent, 'output'>> & { topClass?: string | number; predictionId?: string; score?: number } = {},
): InferenceEvent {
  const { topClass = 3, predictionId, score = 0.9, ...rest } = o;
  return {
    ...base(rest),
    type: 'inference',
    backend: 'wasm' as TelemetryBackend,
    ms: 12,
    inputDims: { input: [1, 1, 28, 28] },
    output: { topClass, score, ...(predictionId ? { predictionId } : {}) },
    ...rest,
  };
}

export function errorEvent(o: Partial<ErrorReportEvent> = {}): ErrorReportEvent {
  return { ...base(o), type: 'error', code: 'INFERENCE_FAILED', message: 'kernel failed', ...o };
}

export function feedbackEvent(o: Partial<FeedbackEvent> & { predictionId: string }): FeedbackEvent {
  return { ...base(o), type: 'feedback', label: 3, ...o };
}

/**
 * An inference with a prediction id plus the feedback for it; `correct` decides the label. Each pair
 * comes from its own install unless `installId` says otherwise (feedback from many users, as the
 * collector's per-install feedback cap expects).
 */
export function labelledPrediction(o: {
  modelId: string;
  modelVersion?: string;
  predicted: string | number;
  correct: boolean;
  ts?: number;
  installId?: string;
}) {
  const predictionId = randomUUID();
  const common = {
    modelId: o.modelId,
    modelVersion: o.modelVersion ?? '1',
    installId: o.installId ?? `install-${randomUUID()}`,
    ...(o.ts === undefined ? {} : { ts: o.ts }),
  };
  return [
    inferenceEvent({ ...common, topClass: o.predicted, predictionId }),
    feedbackEvent({ ...common, predictionId, label: o.correct ? o.predicted : `not-${o.predicted}` }),
  ];
}
