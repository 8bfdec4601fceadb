// Type tests for the model's events, checked by `npm run typecheck` (config/tsconfig/node.json), never run.
// Each `@ts-expect-error` is a misuse that must not compile.
import { loadModel, type ModelEventMap, type WarmedUpDetail } from '../../src/index';

export async function warmedUpIsTyped(): Promise<void> {
  const model = await loadModel('tiny-mlp');
  model.addEventListener('warmedup', (event) => {
    const detail: WarmedUpDetail = event.detail;
    const runs: number = detail.runs;
    const on: 'caller' | 'remembered' | 'sample' | 'first-call' = detail.on;
    const dims: number[] | undefined = detail.dims.x;
    // @ts-expect-error the detail has no `values`: a warm-up reports dims only
    void detail.values;
    void [runs, on, dims];
  });
  model.addEventListener('backendlost', (event) => {
    const reason: string = event.detail.reason;
    void reason;
  });
  // Other event names still take a plain listener.
  model.addEventListener('custom', (event: Event) => void event);
  const listener = (event: ModelEventMap['warmedup']) => void event.detail.ms;
  model.addEventListener('warmedup', listener);
  model.removeEventListener('warmedup', listener);
  // @ts-expect-error a warmedup listener gets the warmedup event, not backendlost's
  model.addEventListener('warmedup', (event: ModelEventMap['backendlost']) => void event);
  const warmedUp: boolean | undefined = model.info.warmedUp;
  void warmedUp;
}
