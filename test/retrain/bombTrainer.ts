// A hostile trainer for the sandbox test: its "candidate" is a 254-byte ConstantOfShape→ReduceSum bomb that
// takes 2 GiB while onnxruntime creates its session. The job must evaluate it only in a sandbox child.
//   node --import tsx test/retrain/bombTrainer.ts --dataset <dir> --out <dir>
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { constantMemoryBombModel } from '../sandbox/hostileModels';

const args = process.argv.slice(2);
const out = args[args.indexOf('--out') + 1];
writeFileSync(path.join(out, 'model.onnx'), constantMemoryBombModel(2 ** 28));
writeFileSync(path.join(out, 'metrics.json'), JSON.stringify({ trainSamples: 0 }));
