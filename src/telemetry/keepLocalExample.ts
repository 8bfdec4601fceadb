import { addLocalExample, type LocalExample, type LocalTensor } from '../cache/localExamples';
import type { FeedbackEvent, SampleInputs } from '../core/eventSchema';
import { NUMBER_ARRAYS } from '../core/tensorFromBytes';
import { newId } from './newId';
import { warnOnce } from './warnOnce';

/** A kept input's typed array per element type (bool as 0/1 bytes). */
const ARRAYS = { ...NUMBER_ARRAYS, bool: Uint8Array } as const;

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
