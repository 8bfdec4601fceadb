import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReleaseService } from '../releases/ReleaseService';
import type { FieldSample } from './FieldSample';
import type { RetrainPorts } from './runRetrainJob';

/**
 * Ports for a job inside the server: releases straight from the release service, field samples from the
 * collector's sample store (`fieldSamples`), seeded registry models read from `modelsDir`.
 */
export function inProcessPorts(o: {
  releases: ReleaseService;
  fieldSamples: (modelId: string, limit: number) => Promise<FieldSample[]>;
  modelsDir: string;
}): RetrainPorts {
  return {
    async current(modelId) {
      const versions = await o.releases.store.list(modelId);
      const stable = versions.find((r) => r.state === 'stable');
      if (!stable) throw new Error(`${modelId} has no stable release to retrain from`);
      const bytes =
        (await o.releases.store.readBlob(stable.sha256)) ??
        (await readFile(path.join(o.modelsDir, path.basename(String(stable.entry.url)))).catch((e: Error) => {
          throw new Error(`cannot read ${modelId} ${stable.version}: ${e.message}`);
        }));
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (sha256 !== stable.sha256) throw new Error(`${modelId} ${stable.version}: bytes do not match their sha256`);
      return {
        version: stable.version,
        bytes,
        inputs: stable.entry.inputs,
        outputs: stable.entry.outputs,
        versions: versions.map((r) => r.version),
      };
    },
    fieldSamples: o.fieldSamples,
    async publish(input) {
      await o.releases.publish(input);
    },
    async startRollout(modelId, version) {
      const percent = (await o.releases.status(modelId)).policy.stages[0];
      await o.releases.setPercent(modelId, version, percent);
      return percent;
    },
  };
}
