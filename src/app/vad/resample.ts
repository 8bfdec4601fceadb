import { OnDeviceError } from '../../index';

export interface ResamplerOptions {
  /** Zero crossings of the sinc on each side of the centre tap: more is sharper and slower. Default 16. */
  zeroCrossings?: number;
  /** Cutoff as a fraction of the lower Nyquist frequency; below 1 leaves room for the transition band. Default 0.94. */
  rolloff?: number;
}

/** A stateful resampler: feed chunks of any size, get the output available so far, then `flush` the tail. */
export interface Resampler {
  push(chunk: Float32Array): Float32Array;
  flush(): Float32Array;
}

/**
 * Band-limited resampling with a Blackman-windowed sinc. When downsampling the cutoff sits below the
 * output Nyquist frequency, so content that would alias (e.g. 8–24 kHz of a 48 kHz microphone going to
 * 16 kHz) is filtered out rather than folded into the speech band. Zero phase: output sample k is input
 * time k·fromRate/toRate. Chunked use gives bit-identical output to one call of {@link resample}.
 *
 * @example
 * const resampler = createResampler(48000, 16000);
 * worklet.onmessage = (e) => vad.push(resampler.push(e.data));
 */
export function createResampler(fromRate: number, toRate: number, options: ResamplerOptions = {}): Resampler {
  for (const [name, rate] of [
    ['fromRate', fromRate],
    ['toRate', toRate],
  ] as const) {
    if (!Number.isInteger(rate) || rate <= 0) {
      throw new OnDeviceError('INVALID_INPUT', `${name} must be a positive integer (Hz)`, { [name]: rate });
    }
  }
  const divisor = gcd(fromRate, toRate);
  const step = fromRate / divisor; // input samples per `phases` outputs
  const phases = toRate / divisor;
  const cutoff = 0.5 * Math.min(1, toRate / fromRate) * (options.rolloff ?? 0.94); // cycles per input sample
  const halfWidth = (options.zeroCrossings ?? 16) / (2 * cutoff); // in input samples
  const reach = Math.ceil(halfWidth);
  const taps = 2 * reach; // input offsets -reach+1 … reach around floor(t)
  const kernels = phases <= 4096 ? new Map<number, Float32Array>() : undefined;

  const kernelFor = (phase: number): Float32Array => {
    const cached = kernels?.get(phase);
    if (cached) return cached;
    const fraction = phase / phases;
    const kernel = new Float32Array(taps);
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const x = fraction - (j - reach + 1); // distance from the output time to this input sample
      const weight = Math.abs(x) >= halfWidth ? 0 : 2 * cutoff * sinc(2 * cutoff * x) * blackman(x / halfWidth);
      kernel[j] = weight;
      sum += weight;
    }
    // Normalise so a constant input stays constant (DC gain exactly 1 at every phase).
    for (let j = 0; j < taps; j++) kernel[j] /= sum;
    kernels?.set(phase, kernel);
    return kernel;
  };

  let buffer = new Float32Array(4096);
  let bufferStart = 0; // global index of buffer[0]
  let bufferLength = 0;
  let received = 0;
  let produced = 0;
  let flushed = false;

  const sampleAt = (index: number): number => {
    const local = index - bufferStart;
    return local >= 0 && local < bufferLength ? buffer[local] : 0;
  };

  const produce = (count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let o = 0; o < count; o++) {
      const k = produced + o;
      const base = Math.floor((k * step) / phases);
      const kernel = kernelFor((k * step) % phases);
      const first = base - reach + 1;
      let acc = 0;
      for (let j = 0; j < taps; j++) acc += kernel[j] * sampleAt(first + j);
      out[o] = acc;
    }
    produced += count;
    return out;
  };

  const outputsReadyUpTo = (inputLength: number): number => {
    // Output k needs input up to floor(k·step/phases) + reach, so k is ready while
    // k·step < (inputLength - reach)·phases.
    const limit = inputLength - reach;
    return limit <= 0 ? 0 : Math.ceil((limit * phases) / step);
  };

  return {
    push(chunk) {
      if (flushed) throw new OnDeviceError('INVALID_INPUT', 'Resampler was already flushed');
      if (fromRate === toRate) {
        received += chunk.length;
        return chunk.slice();
      }
      // Drop input no future output can reach, then make room for the chunk.
      const keepFrom = Math.max(bufferStart, Math.floor((produced * step) / phases) - reach + 1);
      const drop = Math.min(bufferLength, keepFrom - bufferStart);
      if (drop > 0) {
        buffer.copyWithin(0, drop, bufferLength);
        bufferLength -= drop;
        bufferStart += drop;
      }
      if (bufferLength + chunk.length > buffer.length) {
        const grown = new Float32Array(Math.max(buffer.length * 2, bufferLength + chunk.length));
        grown.set(buffer.subarray(0, bufferLength));
        buffer = grown;
      }
      buffer.set(chunk, bufferLength);
      bufferLength += chunk.length;
      received += chunk.length;
      return produce(Math.max(0, Math.min(outputsReadyUpTo(received), totalOutputs(received)) - produced));
    },
    flush() {
      if (flushed) return new Float32Array(0);
      flushed = true;
      if (fromRate === toRate) return new Float32Array(0);
      return produce(Math.max(0, totalOutputs(received) - produced));
    },
  };

  function totalOutputs(inputLength: number): number {
    return Math.ceil((inputLength * phases) / step);
  }
}

/**
 * Resample a whole buffer (see {@link createResampler}). Output length is ceil(length · toRate / fromRate).
 *
 * @example
 * const speech16k = resample(microphoneSamples, 48000, 16000);
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number, options?: ResamplerOptions): Float32Array {
  const resampler = createResampler(fromRate, toRate, options);
  const head = resampler.push(samples);
  const tail = resampler.flush();
  if (tail.length === 0) return head;
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Blackman window over u ∈ [-1, 1]. */
function blackman(u: number): number {
  return 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
