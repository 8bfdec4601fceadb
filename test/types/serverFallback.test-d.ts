// Type tests for the fallback to the server and runBatch (their option-dependent `Model` types), checked by `npm run typecheck`, never run.
// Each `@ts-expect-error` is a misuse that must not compile.
import {
  loadModel,
  type Backend,
  type BatchResult,
  type LoadModelOptions,
  type Model,
  type ModelBackend,
  type TensorsOf,
} from '../../src/index';

export async function deviceOnlyLoadsKeepTheirBackendType(options: LoadModelOptions): Promise<void> {
  // Without fallback or location, code typed with Backend keeps compiling (nothing changed for it).
  const model: Model = await loadModel('tiny-mlp', options);
  const backend: Backend = model.backend;
  void backend;
}

export async function serverCapableLoadsSayServer(): Promise<void> {
  const model = await loadModel('tiny-mlp', { fallback: 'server' });
  const backend: ModelBackend = model.backend;
  // @ts-expect-error a model that may have fallen back to the server may have backend 'server'
  const deviceBackend: Backend = model.backend;
  const location: 'device' | 'server' = model.location;
  void [backend, deviceBackend, location];
  const onServer = await loadModel('tiny-mlp', { location: 'server' });
  // @ts-expect-error likewise with location: 'server'
  const alsoDevice: Backend = onServer.backend;
  void alsoDevice;
  // @ts-expect-error there is no 'cloud' fallback
  await loadModel('tiny-mlp', { fallback: 'cloud' });
}

export async function runBatchResultsNarrowOnOk(): Promise<void> {
  const model = await loadModel<{ x: 'float32' }, { probs: 'float32' }>('tiny-mlp');
  const results: BatchResult<TensorsOf<{ probs: 'float32' }>>[] = await model.runBatch([
    { x: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } },
  ]);
  for (const r of results) {
    if (r.ok) {
      const probs: Float32Array = r.outputs.probs.data;
      void probs;
    } else {
      const code: string = r.error.code;
      void code;
      // @ts-expect-error a failed item has no outputs
      void r.outputs;
    }
  }
  // @ts-expect-error items are feeds of the model's declared inputs
  await model.runBatch([{ y: { type: 'float32', data: new Float32Array(16), dims: [1, 16] } }]);
}
