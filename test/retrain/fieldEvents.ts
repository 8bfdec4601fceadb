// What a population of installs sends for each of its labelled drawings: the prediction, the user's correction and
// the consented sample, through the real ingest endpoint. Shared by the retraining tests that need field data.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { FieldSample } from '../../src/retrain/FieldSample';
import { feedbackEvent, inferenceEvent } from '../collector/makeEvents';
import { postEvents } from '../collector/startCollector';

// Sample event ids in send order: the dataset is ordered by (receive time, id), so random ids would shuffle the
// samples of one batch, and with them the held-back slice and what a trainer sees (the gate's figures would vary).
let sampleSeq = 0;

/** A prediction of `predicted`, the user's correction to the sample's label, and the consented sample (its own install). */
export function fieldEvents(s: Pick<FieldSample, 'modelId' | 'label' | 'inputs'>, predicted: number) {
  const common = { modelId: s.modelId, modelVersion: '1', installId: `install-${randomUUID()}` };
  const predictionId = randomUUID();
  return [
    inferenceEvent({ ...common, topClass: predicted, predictionId }),
    feedbackEvent({ ...common, predictionId, label: s.label as number }),
    {
      type: 'sample',
      id: `sample-${String(sampleSeq++).padStart(8, '0')}`,
      ts: Date.now(),
      sessionId: 'session-1',
      ...common,
      predictionId,
      label: s.label,
      predicted,
      inputs: s.inputs,
    },
  ];
}

/** POST `events` to the collector at `url` in batches the ingest accepts; each batch must be acknowledged. */
export async function sendEvents(url: string, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 24) {
    const r = await postEvents(url, { siteKey: 'demo', events: events.slice(i, i + 24) });
    expect(r.status, JSON.stringify(r)).toBe(200);
  }
}
