import { clearLocalExamples } from './localExamples';
import { openModelDb } from './openModelDb';
import { warmupMemory } from './warmupMemory';

/** Delete every stored model, what the runtime remembers about warming models up, and the labelled examples kept for federated fine-tuning. */
export async function clearModelStore(): Promise<void> {
  if (typeof indexedDB === 'undefined') return;
  await clearLocalExamples();
  const db = await openModelDb();
  const tx = db.transaction(['manifests', 'files', 'chunks'], 'readwrite');
  await Promise.all([tx.objectStore('manifests').clear(), tx.objectStore('files').clear(), tx.objectStore('chunks').clear(), tx.done]);
  await warmupMemory.clear();
}
