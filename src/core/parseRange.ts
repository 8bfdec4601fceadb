export type ByteRange = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * A `Range` header per RFC 9110 §14.2: one satisfiable byte range, `'unsatisfiable'` (416) for a single
 * valid range that lies past the end, and undefined — serve the whole body — for everything a server may
 * ignore: another unit, several ranges, a malformed or reversed one.
 *
 * @example parseRange('bytes=10-', 100) // { start: 10, end: 99 }
 */
export function parseRange(header: string, size: number): ByteRange {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
