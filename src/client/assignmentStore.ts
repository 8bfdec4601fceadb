import type { DBSchema } from 'idb';
import { openDatabase } from '../core/openDatabase';
import type { ReleaseEntry } from '../registry/ReleaseManifest';

interface AssignmentDbSchema extends DBSchema {
  assignments: { key: [string, string]; value: { server: string; id: string; entry: ReleaseEntry; savedAt: number } };
}

function open() {
  return openDatabase<AssignmentDbSchema>('ondevice-releases', 1, {
    what: 'the release assignments',
    upgrade: (database) => void database.createObjectStore('assignments', { keyPath: ['server', 'id'] }),
  });
}

/**
 * The last assignment the server's manifest gave this install for a model, so an offline load (or one
 * whose manifest fetch failed) uses the version it was assigned rather than the static registry's.
 */
export async function rememberAssignment(server: string, entry: ReleaseEntry): Promise<void> {
  const db = await open();
  try {
    await db.put('assignments', { server, id: entry.id, entry, savedAt: Date.now() });
  } finally {
    db.close();
  }
}

export async function storedAssignment(server: string, id: string): Promise<ReleaseEntry | undefined> {
  const db = await open();
  try {
    return (await db.get('assignments', [server, id]))?.entry;
  } finally {
    db.close();
  }
}
