import type { ModelSource } from '../core/protocol';

/**
 * Registry models are content-addressed (id, version and sha256 all take part: a republished file is a
 * new entry); a model loaded by bare URL is stored under its URL and revalidated with the server.
 */
export function storeKeyOf(source: Pick<ModelSource, 'id' | 'version' | 'sha256' | 'url'>): string {
  return source.version ? `${source.id}@${source.version}#${source.sha256 ?? ''}` : `url:${source.url}`;
}
