// Type tests for what loadModel takes, checked by `npm run typecheck` (config/tsconfig/node.json), never run.
// Each `@ts-expect-error` is a misuse that must not compile.
import { loadModel, type ModelInput, type ModelReference } from '../../src/index';
import type { NodeModelInput, NodeModelReference } from '../../src/node/index';

export async function aModelReferenceNamesAModel(): Promise<void> {
  const byId: ModelReference = 'tiny-mlp@1';
  const byUrl: ModelReference = new URL('https://models.example/tiny.onnx');
  await loadModel(byId);
  await loadModel(byUrl);
  // The deprecated old names still compile and mean the same.
  const old: ModelInput = byId;
  const back: ModelReference = old;
  const nodeOld: NodeModelInput = 'tiny-mlp';
  const nodeNew: NodeModelReference = nodeOld;
  void [back, nodeNew];
  // @ts-expect-error a reference names a model; a tensor is not one
  await loadModel({ type: 'float32', data: new Float32Array(1), dims: [1] });
  // @ts-expect-error nor is a number
  const wrong: ModelReference = 7;
  void wrong;
}
