// Writes a transformer-shaped synthetic model with its weights in external data files, at the size asked for:
//
//   npx tsx scripts/fixtures-transformer.ts --out /tmp/big --bytes 2.5e9 [--shards 3] [--precision fp32|fp16|int8]
//                                           [--io fp32|fp16] [--name transformer] [--hidden 2048] [--seed 1]
//                                           [--locations a.bin,b.bin,c.bin] [--id big --version 1]
//
// Prints the set (files, sizes, sha256) as JSON; with --id, a registry entry for it instead (data files named by
// their locations). Tests and benchmarks call writeTransformerModel (scripts/onnx/transformer/) directly.
import { parseArgs } from 'node:util';
import { transformerEntry, writeTransformerModel } from './onnx/transformer/writeTransformerModel';
import type { WeightPrecision } from './onnx/transformer/weightBytes';
import { toRegistryJson } from './onnx/registryFile';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    bytes: { type: 'string' },
    shards: { type: 'string', default: '3' },
    precision: { type: 'string', default: 'fp32' },
    io: { type: 'string', default: 'fp32' },
    name: { type: 'string' },
    hidden: { type: 'string' },
    seed: { type: 'string' },
    locations: { type: 'string' },
    id: { type: 'string' },
    version: { type: 'string' },
  },
});
if (!values.out || !values.bytes) {
  console.error(
    'usage: npx tsx scripts/fixtures-transformer.ts --out <dir> --bytes <size, e.g. 2.5e9> [--shards 3] [--precision fp32|fp16|int8]',
  );
  process.exit(2);
}
if (!['fp32', 'fp16', 'int8'].includes(values.precision))
  throw new Error(`--precision must be fp32, fp16 or int8, got ${values.precision}`);
if (!['fp32', 'fp16'].includes(values.io)) throw new Error(`--io must be fp32 or fp16, got ${values.io}`);
const started = performance.now();
const set = writeTransformerModel({
  dir: values.out,
  bytes: Number(values.bytes),
  shards: Number(values.shards),
  precision: values.precision as WeightPrecision,
  io: values.io as 'fp32' | 'fp16',
  ...(values.name ? { name: values.name } : {}),
  ...(values.hidden ? { hidden: Number(values.hidden) } : {}),
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values.locations ? { locations: values.locations.split(',') } : {}),
});
console.error(
  `fixtures-transformer: ${set.totalBytes} bytes in ${1 + set.files.length} files, ${Math.round(performance.now() - started)} ms`,
);
console.log(values.id ? toRegistryJson(transformerEntry(set, { id: values.id, version: values.version })) : JSON.stringify(set, null, 2));
