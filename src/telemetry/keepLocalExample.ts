import { addLocalExample, type LocalExample, type LocalTensor } from '../cache/localExamples';
import type { FeedbackEvent, SampleInputs } from '../core/eventSchema';
import { newId } from './newId';
import { warnOnce } from './warnOnce';

const ARRAYS = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  bool: Uint8Array,
} as const;

/**
 * Keep a labelled input on this device (federated fine-tuning) instead of sending it: the local example
 * store in IndexedDB, at most `maxPerVersion` per model and version. Fire-and-forget from `reportFeedback`;
 * a failure (no IndexedDB, quota) is said once on the console, and the feedback event goes anyway.
 */
export async function keepLocalExample(
  feedback: Pick<FeedbackEvent, 'modelId' | 'modelVersion' | 'label'>,
  inputs: SampleInputs,
  maxPerVersion: number,
): Promise<void> {
  const kept: Record<string, LocalTensor> = {};
  for (const [name, t] of Object.entries(inputs)) kept[name] = { type: t.type, dims: [...t.dims], data: ARRAYS[t.type].from(t.data) };
  const example: LocalExample = {
    id: newId(),
    modelId: feedback.modelId,
    version: feedback.modelVersion ?? '-',
    label: feedback.label,
    inputs: kept,
    addedMs: Date.now(),
  };
  try {
    await addLocalExample(example, maxPerVersion);
  } catch (error) {
    warnOnce(
      `local-examples ${(error as { code?: string }).code ?? ''}`,
      `ondevice federated: a labelled input could not be kept on this device (${(error as Error).message}); only its label was reported`,
    );
  }
}
