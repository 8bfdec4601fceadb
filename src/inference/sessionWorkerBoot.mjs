// Worker threads do not inherit the TypeScript loader that `node --import tsx` (or `tsx`) installs on
// the main thread (Node 20 module hooks are per thread), so register tsx here when the entry is
// TypeScript; a compiled .js entry loads directly.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
