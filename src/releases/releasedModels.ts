import type { ReleaseService } from './ReleaseService';

/**
 * The published versions /v2 runs (src/inference's ReleasedModels): the stable version of a model, any
 * published version's entry with its files on this server's disk, and the list of versions. A version's entry is
 * kept once made: its files never change.
 *
 * @example
 * const inference = await createInferenceServer({ host, releases: releasedModels(releases.service) });
 */
export function releasedModels(service: ReleaseService) {
  const entries = new Map<string, ReturnType<ReleaseService['servableEntry']>>();
  return {
    async stable(id: string): Promise<string | undefined> {
      return (await service.store.list(id)).find((r) => r.state === 'stable')?.version;
    },
    entry(id: string, version: string) {
      const key = `${id}@${version}`;
      let entry = entries.get(key);
      if (!entry) {
        entry = service.servableEntry(id, version);
        entries.set(key, entry);
        // A version not published yet may be by the next request; a failure is retried too.
        void entry.then(
          (e) => e === undefined && entries.delete(key),
          () => entries.delete(key),
        );
      }
      return entry;
    },
    async versions(id: string): Promise<string[]> {
      return (await service.store.list(id)).map((r) => r.version);
    },
  };
}
