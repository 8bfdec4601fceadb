import { createHash } from 'node:crypto';

/**
 * An install's bucket for a model, 0–99: the first 4 bytes (big-endian) of SHA-256 of
 * `${installId}:${modelId}`, mod 100. Stable across visits, so an install only moves when a rollout
 * percentage crosses its bucket; it is on the candidate when bucket < candidate percent. The client's
 * test server computes the same.
 */
export function assignBucket(installId: string, modelId: string): number {
  return createHash('sha256').update(`${installId}:${modelId}`).digest().readUInt32BE(0) % 100;
}
