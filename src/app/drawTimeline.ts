import type { SpeechSegment } from './vad';

export interface Timeline {
  samples: Float32Array;
  sampleRate: number;
  segments: SpeechSegment[];
  /** Speech probability per frame, drawn as a line over the waveform. */
  probabilities?: ArrayLike<number>;
  frameMs?: number;
  /** A segment still open (microphone): drawn from its start to the end of the audio. */
  openSince?: number;
}

/** Waveform (min/max per pixel column), speech segments as shaded spans, Silero's probability as a line. */
export function drawTimeline(canvas: HTMLCanvasElement, timeline: Timeline): void {
  const ratio = globalThis.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 600;
  const cssHeight = canvas.clientHeight || 140;
  canvas.width = Math.round(cssWidth * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  const { samples, sampleRate, segments } = timeline;
  const durationMs = (samples.length / sampleRate) * 1000 || 1;
  const x = (ms: number) => (ms / durationMs) * cssWidth;
  const mid = cssHeight / 2;
  context.clearRect(0, 0, cssWidth, cssHeight);

  context.fillStyle = 'rgba(34, 197, 94, 0.25)';
  for (const s of segments) context.fillRect(x(s.startMs), 0, Math.max(1, x(s.endMs) - x(s.startMs)), cssHeight);
  if (timeline.openSince !== undefined) context.fillRect(x(timeline.openSince), 0, cssWidth - x(timeline.openSince), cssHeight);

  context.fillStyle = getComputedStyle(canvas).color || '#334155';
  const perColumn = samples.length / cssWidth;
  for (let col = 0; col < cssWidth; col++) {
    const from = Math.floor(col * perColumn);
    const to = Math.min(samples.length, Math.floor((col + 1) * perColumn) + 1);
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const v = samples[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    context.fillRect(col, mid - hi * mid, 1, Math.max(1, (hi - lo) * mid));
  }

  if (timeline.probabilities && timeline.frameMs) {
    const { probabilities, frameMs } = timeline;
    context.strokeStyle = '#f59e0b';
    context.lineWidth = 1.5;
    context.beginPath();
    for (let i = 0; i < probabilities.length; i++) {
      const px = x((i + 0.5) * frameMs);
      const py = cssHeight - probabilities[i] * (cssHeight - 4) - 2;
      if (i === 0) context.moveTo(px, py);
      else context.lineTo(px, py);
    }
    context.stroke();
  }

  context.fillStyle = getComputedStyle(canvas).color || '#334155';
  context.font = '11px system-ui, sans-serif';
  const stepS = durationMs > 60_000 ? 10 : durationMs > 20_000 ? 5 : 1;
  for (let t = stepS; t * 1000 < durationMs; t += stepS) {
    context.fillRect(x(t * 1000), cssHeight - 6, 1, 6);
    context.fillText(`${t}s`, x(t * 1000) + 2, cssHeight - 2);
  }
}
