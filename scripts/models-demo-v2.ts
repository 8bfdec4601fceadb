// npm run models:demo-v2 [-- --out data/tiny-mlp-v2.onnx]
// Writes version 2 of the demo model tiny-mlp for the release walkthrough (docs/releases.md): the same
// graph and signature as the registry's v1, other weights (another seed), so it publishes as a compatible
// candidate. Prints its path, sha256 and bytes. data/ is gitignored.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeTinyMlp, tinyMlpWeights } from './onnx/models/tinyMlpModel';
import { REPO_ROOT } from './onnx/paths';

const V2_WEIGHT_SEED = 20261201;

const { values } = parseArgs({ options: { out: { type: 'string', default: 'data/tiny-mlp-v2.onnx' } } });
const out = resolve(REPO_ROOT, values.out!);
const bytes = encodeTinyMlp(tinyMlpWeights(V2_WEIGHT_SEED));
await mkdir(dirname(out), { recursive: true });
await writeFile(out, bytes);
console.log(`models:demo-v2: wrote ${out} (${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex')})`);
