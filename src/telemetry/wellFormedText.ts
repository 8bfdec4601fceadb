/**
 * `text` as the collector accepts it: at most `maxLength` UTF-16 code units, cut on a code-point
 * boundary (`.slice` can cut an emoji in half, and a lone surrogate makes the whole batch invalid),
 * lone surrogates replaced with U+FFFD and NUL removed (the schema refuses both).
 *
 * @example
 * wellFormedText('ok 😀', 4) // 'ok ' — never 'ok \ud83d'
 */
export function wellFormedText(text: string, maxLength: number): string {
  // With the `u` flag a paired surrogate is one code point, so only lone ones match \p{Cs}.
  // eslint-disable-next-line no-control-regex -- NUL is exactly what this removes
  const clean = text.replace(/\p{Cs}/gu, '\uFFFD').replace(/\u0000/g, '');
  if (clean.length <= maxLength) return clean;
  const cut = clean.slice(0, maxLength);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
