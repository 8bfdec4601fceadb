import { LIMITS, type TelemetryEvent } from '../core/eventSchema';
import type { LifecycleEvent } from '../core/lifecycle';
import type { Feeds } from '../core/protocol';
import { redactUrls } from './redactUrls';
import { safeId, safeModelId, safeModelVersion } from './safeIdentifier';
import { summarizeOutput } from './summarizeOutput';
import { wellFormedText } from './wellFormedText';

/** An event before the client stamps it (`id`, `ts`, `installId`, `sessionId`). */
export type EventInput = TelemetryEvent extends infer E
  ? E extends TelemetryEvent
    ? Omit<E, 'id' | 'ts' | 'installId' | 'sessionId'>
    : never
  : never;

const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The telemetry event for a runtime lifecycle event, valid against the collector's schema whatever the
 * caller's ids, input names or messages look like (undefined when the model opted out).
 */
export function eventFromLifecycle(event: LifecycleEvent): EventInput | undefined {
  if (event.report === false) return undefined;
  const modelVersion = safeModelVersion(event.modelVersion);
  switch (event.type) {
    case 'model_load':
      return {
        type: 'model_load',
        modelId: safeModelId(event.modelId),
        modelVersion,
        backend: event.info.backend,
        ...(event.fallbackReason ? { fallbackReason: safeMessage(event.fallbackReason, LIMITS.maxFallbackReasonLength) } : {}),
        bytes: clampInteger(event.info.bytes, 0, LIMITS.maxModelBytes),
        fromCache: event.info.fromCache,
        ms: clampNumber(event.ms, 0, LIMITS.maxDurationMs),
      };
    case 'inference':
      return {
        type: 'inference',
        modelId: safeModelId(event.modelId),
        modelVersion,
        backend: event.backend,
        ms: clampNumber(event.ms, 0, LIMITS.maxDurationMs),
        inputDims: safeInputDims(event.inputDims),
        output: { ...summarizeOutput(event.outputs as Feeds), predictionId: safeId(event.predictionId) },
      };
    case 'error':
      return {
        type: 'error',
        modelId: event.modelId === undefined ? '-' : safeModelId(event.modelId),
        modelVersion,
        code: event.error.code,
        message: safeMessage(event.error.message, LIMITS.maxMessageLength),
      };
    case 'backend_lost':
      return {
        type: 'error',
        modelId: safeModelId(event.modelId),
        modelVersion,
        code: 'BACKEND_LOST',
        message: safeMessage(event.reason, LIMITS.maxMessageLength),
      };
  }
}

/** Query strings and fragments of URLs removed, then cut (by code point) to the schema's limit. */
export function safeMessage(text: string, maxLength: number): string {
  return wellFormedText(redactUrls(text), maxLength);
}

function safeInputDims(dims: Record<string, number[]>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [name, shape] of Object.entries(dims).slice(0, LIMITS.maxInputs)) {
    let key = wellFormedText(name, LIMITS.maxInputNameLength) || '_';
    if (FORBIDDEN_NAMES.has(key)) key = `_${key}`.slice(0, LIMITS.maxInputNameLength);
    out[key] = shape.slice(0, LIMITS.maxRank).map((d) => clampInteger(d, 0, LIMITS.maxDim));
  }
  return out;
}

function clampNumber(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}

function clampInteger(value: number, min: number, max: number): number {
  return Math.round(clampNumber(value, min, max));
}
