import type { OcrLine } from './ocr';

/**
 * Draw the image with each detected line's box over it (numbered like the text list); `highlight`
 * is the line the reader is pointing at. Boxes are in the pixels of `size`, scaled to the canvas.
 */
export function drawOcrBoxes(
  canvas: HTMLCanvasElement,
  image: CanvasImageSource,
  lines: OcrLine[],
  size: { width: number; height: number },
  highlight = -1,
): void {
  const context = canvas.getContext('2d')!;
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  const sx = canvas.width / size.width;
  const sy = canvas.height / size.height;
  const unit = Math.max(1, Math.round(Math.max(canvas.width, canvas.height) / 600));
  context.font = `bold ${12 * unit}px system-ui, sans-serif`;
  context.textBaseline = 'bottom';
  lines.forEach((line, i) => {
    const active = i === highlight;
    context.beginPath();
    line.box.forEach(([x, y], k) => (k === 0 ? context.moveTo(x * sx, y * sy) : context.lineTo(x * sx, y * sy)));
    context.closePath();
    context.lineWidth = (active ? 3 : 2) * unit;
    context.strokeStyle = active ? '#f59e0b' : '#2563eb';
    if (active) {
      context.fillStyle = 'rgba(245, 158, 11, 0.18)';
      context.fill();
    }
    context.stroke();
    const [x, y] = line.box[0];
    const label = String(i + 1);
    const width = context.measureText(label).width + 6 * unit;
    context.fillStyle = active ? '#f59e0b' : '#2563eb';
    context.fillRect(x * sx, y * sy - 14 * unit, width, 14 * unit);
    context.fillStyle = '#fff';
    context.fillText(label, x * sx + 3 * unit, y * sy - unit);
  });
}
