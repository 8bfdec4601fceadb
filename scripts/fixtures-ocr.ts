// Generates the OCR fixtures: test/fixtures/ocr-sample.png (the demo's bundled sample, a café receipt),
// test/fixtures/ocr-rotated.png (the same receipt turned 4°, for rotated boxes) and
// test/fixtures/ocr-sample.json (the text they hold, one entry per printed line, top to bottom).
//
//   apt-get install -y imagemagick fonts-dejavu-core && npx tsx scripts/fixtures-ocr.ts
//
// Uses /usr/bin/convert explicitly (override with IMAGEMAGICK_CONVERT): on some machines an earlier
// `convert` on the PATH is not ImageMagick. Output is 8-bit RGB PNG without timestamps, so a rerun with the
// same ImageMagick and font gives the same bytes. Tests read the committed files; they never run this.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const CONVERT = process.env.IMAGEMAGICK_CONVERT ?? '/usr/bin/convert';
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const WIDTH = 640;
const HEIGHT = 420;

/** Each printed line: its text, size in points and left/baseline position in pixels. */
const LINES = [
  { text: 'GREEN LEAF CAFE', pointSize: 34, x: 150, y: 70 },
  { text: '12 Market Street, Springfield', pointSize: 22, x: 140, y: 115 },
  { text: 'Cappuccino 3.80', pointSize: 26, x: 60, y: 185 },
  { text: 'Blueberry muffin 2.95', pointSize: 26, x: 60, y: 235 },
  { text: 'Total 6.75', pointSize: 26, x: 60, y: 285 },
  { text: 'Thank you, come again!', pointSize: 26, x: 60, y: 360 },
];
const ROTATION_DEGREES = 4;

const outDir = new URL('../test/fixtures/', import.meta.url).pathname;

function convert(args: string[]): void {
  execFileSync(CONVERT, args, { stdio: ['ignore', 'inherit', 'inherit'] });
}

function main(): void {
  const version = execFileSync(CONVERT, ['-version']).toString().split('\n')[0];
  if (!version.includes('ImageMagick')) throw new Error(`${CONVERT} is not ImageMagick: ${version}`);
  const draw = LINES.flatMap(({ text, pointSize, x, y }) => ['-pointsize', String(pointSize), '-annotate', `+${x}+${y}`, text]);
  const common = ['-strip', '-define', 'png:exclude-chunks=date,time', '-depth', '8'];
  const sample = join(outDir, 'ocr-sample.png');
  convert(['-size', `${WIDTH}x${HEIGHT}`, 'xc:white', '-font', FONT, '-fill', '#1a1a1a', ...draw, ...common, `PNG24:${sample}`]);
  convert([
    sample,
    '-background',
    'white',
    '-rotate',
    String(-ROTATION_DEGREES), // counter-clockwise: lines climb to the right
    ...common,
    `PNG24:${join(outDir, 'ocr-rotated.png')}`,
  ]);
  writeFileSync(
    join(outDir, 'ocr-sample.json'),
    JSON.stringify(
      {
        generator: `scripts/fixtures-ocr.ts with ${version.trim()}, DejaVu Sans`,
        rotatedDegrees: ROTATION_DEGREES,
        lines: LINES.map((line) => line.text),
      },
      null,
      2,
    ) + '\n',
  );
  console.log('wrote ocr-sample.png, ocr-rotated.png, ocr-sample.json');
}

main();
