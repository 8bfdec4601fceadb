/** A number in [0, 1) from a string (FNV-1a, 32 bits): the same id always lands on the same side of a split. */
export function exampleHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 4294967296;
}
