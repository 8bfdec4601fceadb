import type { Point } from './types';

/**
 * The 8-connected regions of a binary map, each given by its border pixels (a foreground pixel with a
 * background 4-neighbour). That is the point set `cv2.findContours` returns for an outer contour; holes
 * are not reported separately (PaddleOCR's RETR_LIST would list them, but on a DB map a hole's box lies
 * inside its region's box, so it could only add a duplicate).
 */
export function findComponents(mask: Uint8Array, width: number, height: number): Point[][] {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const components: Point[][] = [];
  const isSet = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] !== 0;
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = components.length + 1;
    const border: Point[] = [];
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const index = stack[--top];
      const x = index % width;
      const y = (index - x) / width;
      if (!isSet(x - 1, y) || !isSet(x + 1, y) || !isSet(x, y - 1) || !isSet(x, y + 1)) border.push([x, y]);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if ((dx === 0 && dy === 0) || !isSet(nx, ny)) continue;
          const next = ny * width + nx;
          if (labels[next] !== 0) continue;
          labels[next] = label;
          stack[top++] = next;
        }
      }
    }
    components.push(border);
  }
  return components;
}
