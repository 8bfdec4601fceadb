/**
 * The recogniser's class list, as PaddleOCR's CTCLabelDecode builds it: 'blank' at index 0, then one
 * class per line of the keys file (e.g. ppocr_keys_v1.txt, line endings stripped, nothing else), then
 * ' ' when `useSpaceChar` (PP-OCRv4's rec model is trained with it: 6623 keys + 2 = 6625 classes).
 *
 * @example
 * const charset = ctcCharset(await (await fetch('/models/ppocr_keys_v1.txt')).text());
 */
export function ctcCharset(keys: string | readonly string[], useSpaceChar = true): string[] {
  let lines: string[];
  if (typeof keys === 'string') {
    lines = keys.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    if (lines.at(-1) === '') lines.pop(); // the newline that ends the file starts no key
  } else lines = [...keys];
  return ['blank', ...lines, ...(useSpaceChar ? [' '] : [])];
}
