// Writes the PWA icons in public/icons/ (committed; rerun after changing the design):
//   icon-192.png, icon-512.png (rounded tile) and icon-maskable-192.png, icon-maskable-512.png
//   (full bleed, glyph inside the 80 % safe zone: https://web.dev/articles/maskable-icon).
// A tiny PNG encoder (node:zlib) and an anti-aliased rasteriser of circles and line segments: a
// small neural network, white on the app's accent blue.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.join(root, 'public/icons');

const BACKGROUND = [0x25, 0x63, 0xeb] as const; // --accent in src/app/style.css; theme_color in the manifest
const FOREGROUND = [0xff, 0xff, 0xff] as const;
const SUPERSAMPLE = 4;

type Shape =
  { kind: 'circle'; x: number; y: number; r: number } | { kind: 'line'; x1: number; y1: number; x2: number; y2: number; w: number };

/** The glyph in unit coordinates (0..1 across the glyph box): layers of 2, 3 and 2 nodes, fully connected. */
function glyph(): Shape[] {
  const layers = [
    [0.3, 0.7].map((y) => ({ x: 0.12, y })),
    [0.14, 0.5, 0.86].map((y) => ({ x: 0.5, y })),
    [0.3, 0.7].map((y) => ({ x: 0.88, y })),
  ];
  const shapes: Shape[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    for (const a of layers[l]) for (const b of layers[l + 1]) shapes.push({ kind: 'line', x1: a.x, y1: a.y, x2: b.x, y2: b.y, w: 0.035 });
  }
  for (const layer of layers) for (const n of layer) shapes.push({ kind: 'circle', x: n.x, y: n.y, r: 0.1 });
  return shapes;
}

function inside(s: Shape, x: number, y: number): boolean {
  if (s.kind === 'circle') return (x - s.x) ** 2 + (y - s.y) ** 2 <= s.r ** 2;
  const dx = s.x2 - s.x1;
  const dy = s.y2 - s.y1;
  const t = Math.max(0, Math.min(1, ((x - s.x1) * dx + (y - s.y1) * dy) / (dx * dx + dy * dy)));
  return (x - s.x1 - t * dx) ** 2 + (y - s.y1 - t * dy) ** 2 <= (s.w / 2) ** 2;
}

/** Inside a rounded square tile of the whole canvas (corner radius as a fraction of the size). */
function insideTile(x: number, y: number, radius: number): boolean {
  const cx = Math.min(Math.max(x, radius), 1 - radius);
  const cy = Math.min(Math.max(y, radius), 1 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function render(size: number, maskable: boolean): Uint8Array {
  const shapes = glyph();
  // Glyph box: maskable icons keep everything within the central 80 % circle; plain ones use more of the tile.
  const box = maskable ? { x: 0.22, y: 0.22, s: 0.56 } : { x: 0.16, y: 0.16, s: 0.68 };
  const rgba = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let tile = 0;
      let ink = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const x = (px + (sx + 0.5) / SUPERSAMPLE) / size;
          const y = (py + (sy + 0.5) / SUPERSAMPLE) / size;
          if (!maskable && !insideTile(x, y, 0.22)) continue;
          tile++;
          const gx = (x - box.x) / box.s;
          const gy = (y - box.y) / box.s;
          if (shapes.some((s) => inside(s, gx, gy))) ink++;
        }
      }
      const samples = SUPERSAMPLE * SUPERSAMPLE;
      const i = (py * size + px) * 4;
      const f = tile ? ink / tile : 0;
      for (let c = 0; c < 3; c++) rgba[i + c] = Math.round(BACKGROUND[c] * (1 - f) + FOREGROUND[c] * f);
      rgba[i + 3] = Math.round((255 * tile) / samples);
    }
  }
  return rgba;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGBA PNG (filter 0 on every row: the icons are small, zlib does the work). */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, no filter method, no interlace
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

export async function makeIcons(): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const size of [192, 512]) {
    for (const maskable of [false, true]) {
      const file = path.join(outDir, `icon-${maskable ? 'maskable-' : ''}${size}.png`);
      await writeFile(file, encodePng(size, size, render(size, maskable)));
      written.push(path.relative(root, file));
    }
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  makeIcons().then((files) => console.log(`wrote ${files.join(', ')}`));
}
