import { LIMITS } from '../core/eventSchema';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Feeds, TensorData } from '../core/protocol';
import type { EventInput } from './eventFromLifecycle';
import { safeId, safeModelId, safeModelVersion } from './safeIdentifier';
import { wellFormedText } from './wellFormedText';

export interface Feedback {
  modelId: string;
  modelVersion?: string;
  /** The prediction this label is for: `model.lastPredictionId`, or the `predictionId` you passed to `run`. */
  predictionId: string;
  /** The true label: a non-empty string or an integer class index. */
  label: string | number;
  predicted?: string | number;
  /**
   * The tensor the model saw for this prediction, e.g. `{ type: 'float32', data, dims: [1, 1, 28, 28] }`.
   * Sent (as a `sample` event) only when telemetry has `shareInputs: true`; otherwise only the label travels.
   * It is named after the model's input of this prediction (when it ran in this page), or `inputName`.
   */
  input?: TensorData;
  /** The name of `input` among the model's inputs, when the prediction did not run in this page. */
  inputName?: string;
  /** For models with several inputs: the tensors by input name (instead of `input`). */
  inputs?: Feeds;
}

/** The `feedback` event for `feedback`; a label the collector could never accept is INVALID_INPUT. */
export function feedbackEvent(feedback: Feedback): EventInput {
  if (typeof feedback?.predictionId !== 'string' || feedback.predictionId === '') {
    throw new OnDeviceError('INVALID_INPUT', 'reportFeedback: predictionId must be the prediction id of an earlier run', {
      field: 'predictionId',
    });
  }
  return {
    type: 'feedback',
    modelId: safeModelId(String(feedback.modelId ?? '-')),
    modelVersion: safeModelVersion(feedback.modelVersion),
    predictionId: safeId(feedback.predictionId),
    label: classLabel(feedback.label, 'label'),
    ...(feedback.predicted !== undefined ? { predicted: classLabel(feedback.predicted, 'predicted') } : {}),
  };
}

function classLabel(value: unknown, field: string): string | number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string') {
    const text = wellFormedText(value, LIMITS.maxLabelLength);
    if (text.length > 0) return text;
  }
  throw new OnDeviceError('INVALID_INPUT', `reportFeedback: ${field} must be a non-empty string or an integer class index`, { field });
}
