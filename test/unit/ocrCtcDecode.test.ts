import { describe, expect, it } from 'vitest';
import { ctcCharset } from '../../src/app/ocr/ctcCharset';
import { ctcDecode } from '../../src/app/ocr/ctcDecode';

const charset = ctcCharset('a\nb\nl\n');

/** One-hot-ish rows: `classes[t]` gets probability `p[t]`, the rest share what is left. */
function probabilities(rows: number[][], p: number[][]) {
  const classes = charset.length;
  const data = new Float32Array(rows.length * rows[0].length * classes);
  rows.forEach((row, n) =>
    row.forEach((c, t) => {
      const offset = (n * row.length + t) * classes;
      data.fill((1 - p[n][t]) / (classes - 1), offset, offset + classes);
      data[offset + c] = p[n][t];
    }),
  );
  return { type: 'float32' as const, data, dims: [rows.length, rows[0].length, classes] };
}

describe('ctcCharset', () => {
  it('puts blank first and the space last, one key per line', () => {
    expect(charset).toEqual(['blank', 'a', 'b', 'l', ' ']);
    expect(ctcCharset('x\r\ny', false)).toEqual(['blank', 'x', 'y']);
    expect(ctcCharset(['x', ' '])).toEqual(['blank', 'x', ' ', ' ']);
  });
});

describe('ctcDecode', () => {
  it('merges repeats, drops blanks, and scores the mean of the kept characters', () => {
    // b b _ a l l _ l _ ␣ a   →  "ball a"
    const rows = [[2, 2, 0, 1, 3, 3, 0, 3, 0, 4, 1]];
    const p = [[0.9, 0.5, 0.99, 0.8, 0.7, 0.9, 0.99, 0.6, 0.99, 0.5, 0.4]];
    const [decoded] = ctcDecode(probabilities(rows, p), charset);
    expect(decoded.text).toBe('ball a');
    expect(decoded.score).toBeCloseTo((0.9 + 0.8 + 0.7 + 0.6 + 0.5 + 0.4) / 6, 6);
  });

  it('decodes a batch, and gives an all-blank line score 0', () => {
    const decoded = ctcDecode(
      probabilities(
        [
          [0, 0, 0],
          [1, 0, 2],
        ],
        [
          [0.9, 0.9, 0.9],
          [0.8, 0.9, 0.6],
        ],
      ),
      charset,
    );
    expect(decoded).toEqual([
      { text: '', score: 0 },
      { text: 'ab', score: expect.closeTo(0.7, 6) },
    ]);
  });

  it('decodes each item of a padded batch over its own steps only', () => {
    // Item 0 fills all 6 steps; item 1 fills 3, and the batch padding behind it reads "l", "l".
    const batch = probabilities(
      [
        [1, 0, 2, 0, 4, 1],
        [2, 0, 1, 3, 0, 3],
      ],
      [
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9],
        [0.8, 0.9, 0.8, 0.3, 0.9, 0.3],
      ],
    );
    expect(ctcDecode(batch, charset).map((d) => d.text)).toEqual(['ab a', 'ball']);
    const own = ctcDecode(batch, charset, [6, 3]);
    expect(own.map((d) => d.text)).toEqual(['ab a', 'ba']);
    expect(own[1].score).toBeCloseTo(0.8, 6);
    // A count past the output's steps is the whole output.
    expect(ctcDecode(batch, charset, [99, 99])).toEqual(ctcDecode(batch, charset));
  });

  it('refuses an output that does not fit the charset (wrong keys file)', () => {
    const wrong = { type: 'float32' as const, data: new Float32Array(12), dims: [1, 2, 6] };
    expect(() => ctcDecode(wrong, charset)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
