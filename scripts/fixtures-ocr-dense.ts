// Generates the dense-page OCR fixture: test/fixtures/ocr-dense.png (80 lines of text in two columns, a
// 1280 × 1000 screenshot of a page rendered by headless Chromium) and test/fixtures/ocr-dense.json (the
// lines, in the reading order the OCR reports them: row by row, left column first).
//
//   npx tsx scripts/fixtures-ocr-dense.ts
//
// The text comes from a seeded generator, so it is the same on every run; the pixels depend on the
// Chromium build and the DejaVu Sans font (fonts-dejavu-core), and are committed. Tests read the committed
// files; they never run this.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../src/core/mulberry32';
import { launchChromium } from '../test/helpers/chromium';

const WIDTH = 1280;
const HEIGHT = 1000;
const ROWS = 40;
const COLUMNS = 2;
const FONT_PX = 16;
const LINE_PX = 24;
const MAX_CHARS = 52;

const WORDS = (
  'order invoice shipped delivered pending refund customer account balance payment received warehouse ' +
  'parcel tracking address street road harbour market station north south east west report summary ' +
  'monday tuesday wednesday thursday friday total subtotal tax discount coffee paper printer cable ' +
  'battery monitor keyboard chair desk lamp window garden kitchen office meeting notes review draft ' +
  'approved rejected status update server backup network storage memory cache latency request'
).split(' ');
const PLACES = ['Leeds', 'Leith', 'Bristol', 'Cardiff', 'Dublin', 'Oslo', 'Lyon', 'Porto', 'Ghent', 'Turin'];
const NAMES = ['Alice', 'Bruno', 'Chen', 'Dana', 'Emil', 'Farah', 'Greta', 'Hugo', 'Ines', 'Jonas'];

function makeLines(count: number): string[] {
  // Seeded, so the text is the same on every run.
  const random = mulberry32(15);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const number = (digits: number) => String(Math.floor(random() * 10 ** digits)).padStart(digits, '0');
  const price = () => `${Math.floor(random() * 900) + 1}.${number(2)}`;
  const templates = [
    () => `Order ${number(4)} ${pick(WORDS)} to ${pick(PLACES)}, ${Math.floor(random() * 9) + 1} items`,
    () => `${pick(NAMES)}: ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`,
    () => `${pick(WORDS)} ${pick(WORDS)} ${price()} EUR`,
    () => `${number(2)}/${number(2)} ${pick(NAMES)} ${pick(WORDS)} the ${pick(WORDS)} at ${pick(PLACES)}`,
    () => `Total ${price()} (tax ${price()})`,
    () => `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)}`,
    () => `Call ${number(3)} ${number(4)} before ${number(2)}:${number(2)}`,
  ];
  const lines: string[] = [];
  while (lines.length < count) {
    const line = pick(templates)();
    const text = line[0].toUpperCase() + line.slice(1);
    if (text.length <= MAX_CHARS) lines.push(text);
  }
  return lines;
}

async function main(): Promise<void> {
  const all = makeLines(ROWS * COLUMNS);
  const columns = Array.from({ length: COLUMNS }, (_, c) => all.slice(c * ROWS, (c + 1) * ROWS));
  const html = `<!doctype html><meta charset="utf-8"><style>
    html, body { margin: 0; background: #ffffff; }
    body { width: ${WIDTH}px; height: ${HEIGHT}px; display: flex; gap: 80px; padding: 20px 40px; box-sizing: border-box;
      font: ${FONT_PX}px/${LINE_PX}px "DejaVu Sans"; color: #1a1a1a; }
    div { width: 560px; white-space: pre; }
  </style><body>${columns.map((lines) => `<div>${lines.map((l) => l.replace(/&/g, '&amp;').replace(/</g, '&lt;')).join('\n')}</div>`).join('')}</body>`;

  const browser = await launchChromium({ extraArgs: ['--font-render-hinting=none'] });
  try {
    const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT }, deviceScaleFactor: 1 });
    await page.setContent(html);
    await page.evaluate(() => document.fonts.ready);
    const overflow = await page.evaluate(() => [...document.querySelectorAll('div')].some((d) => d.scrollWidth > d.clientWidth));
    if (overflow) throw new Error('a line is wider than its column');
    const outDir = new URL('../test/fixtures/', import.meta.url).pathname;
    await page.screenshot({ path: join(outDir, 'ocr-dense.png'), clip: { x: 0, y: 0, width: WIDTH, height: HEIGHT } });
    const readingOrder = Array.from({ length: ROWS }, (_, row) => columns.map((lines) => lines[row])).flat();
    writeFileSync(
      join(outDir, 'ocr-dense.json'),
      JSON.stringify(
        {
          generator: `scripts/fixtures-ocr-dense.ts with Chromium ${browser.version()}, DejaVu Sans ${FONT_PX}px`,
          size: { width: WIDTH, height: HEIGHT },
          columns: COLUMNS,
          lines: readingOrder,
        },
        null,
        2,
      ) + '\n',
    );
    console.log(`wrote ocr-dense.png, ocr-dense.json (${readingOrder.length} lines)`);
  } finally {
    await browser.close();
  }
}

await main();
