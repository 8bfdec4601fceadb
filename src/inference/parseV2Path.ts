export type V2Route =
  | { kind: 'server' }
  | { kind: 'live' }
  | { kind: 'ready' }
  | { kind: 'metadata' | 'model-ready' | 'infer'; id: string; version: string | undefined };

// Ids and versions are matched by these patterns and looked up in the registry only: they never reach
// the file system.
const MODEL = /^\/v2\/models\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})(?:\/versions\/([A-Za-z0-9][A-Za-z0-9._-]{0,63}))?(\/ready|\/infer)?$/;

/** Which Open Inference Protocol endpoint a path names; undefined when none. */
export function parseV2Path(pathname: string): V2Route | undefined {
  if (pathname === '/v2' || pathname === '/v2/') return { kind: 'server' };
  if (pathname === '/v2/health/live') return { kind: 'live' };
  if (pathname === '/v2/health/ready') return { kind: 'ready' };
  const m = MODEL.exec(pathname);
  if (!m) return undefined;
  const kind = m[3] === '/infer' ? 'infer' : m[3] === '/ready' ? 'model-ready' : 'metadata';
  return { kind, id: m[1], version: m[2] };
}
