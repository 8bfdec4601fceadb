import { LIMITS, type FeedbackEvent, type SampleInputs } from '../core/eventSchema';
import { OnDeviceError } from '../core/OnDeviceError';
import type { EventInput } from './eventFromLifecycle';

// What the client stamps on every event at most (id, ts, installId, sessionId): counted before it is there.
const STAMP_BYTES = `,"id":"","ts":0000000000000,"installId":"","sessionId":""`.length + 3 * LIMITS.maxIdLength;
const utf8 = new TextEncoder();

/**
 * The `sample` event that goes with a `feedback` event when the user agreed to share inputs. One the
 * collector would refuse for its size is INVALID_INPUT (details.reason SAMPLE_TOO_LARGE) here instead.
 */
export function sampleEvent(feedback: Omit<FeedbackEvent, 'id' | 'ts' | 'installId' | 'sessionId'>, inputs: SampleInputs): EventInput {
  const event: EventInput = { ...feedback, type: 'sample', inputs };
  const bytes = utf8.encode(JSON.stringify(event)).byteLength + STAMP_BYTES;
  if (bytes > LIMITS.maxSampleBytes) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `reportFeedback: the shared input is ${bytes} bytes as JSON; a sample is at most ${LIMITS.maxSampleBytes} (send a smaller input, or none)`,
      { field: 'input', reason: 'SAMPLE_TOO_LARGE', bytes, maxBytes: LIMITS.maxSampleBytes },
    );
  }
  return event;
}
