// Type tests for consented samples, checked by `npm run typecheck` (config/tsconfig/node.json), never run.
// Each `@ts-expect-error` is a misuse that must not compile.
import { configure, reportFeedback, type Feedback, type TelemetryConfig } from '../../src/index';

export function feedbackMayCarryTheInput(): void {
  const image = { type: 'float32' as const, data: new Float32Array(784), dims: [1, 1, 28, 28] };
  const base = { modelId: 'digits', modelVersion: '1', predictionId: 'p-1', label: 7 };
  reportFeedback({ ...base, input: image });
  reportFeedback({ ...base, input: image, inputName: 'image' });
  reportFeedback({ ...base, inputs: { image } });
  const feedback: Feedback = { ...base, predicted: 1, inputs: { image, mask: { type: 'bool', data: new Uint8Array(1), dims: [1] } } };
  void feedback;
  // @ts-expect-error input is a tensor ({ type, data, dims }), not bare data
  reportFeedback({ ...base, input: new Float32Array(784) });
  // @ts-expect-error a float32 tensor carries a Float32Array
  reportFeedback({ ...base, input: { type: 'float32', data: [0, 1], dims: [2] } });
  // @ts-expect-error inputs are named tensors
  reportFeedback({ ...base, inputs: [image] });
}

export function consentIsABoolean(): void {
  const telemetry: TelemetryConfig = { endpoint: '/v1/events', siteKey: 'demo', shareInputs: true };
  configure({ telemetry });
  configure({ telemetry: { endpoint: '/v1/events', includeInputs: true } }); // deprecated alias
  // @ts-expect-error shareInputs is true or false
  configure({ telemetry: { endpoint: '/v1/events', shareInputs: 'yes' } });
}
