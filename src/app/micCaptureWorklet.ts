export {}; // a module, so the declarations below stay local to this file

// AudioWorklet processor for the VAD tab's microphone: forwards mono samples to the page in chunks of
// ~85 ms (4096 samples at 48 kHz) instead of every 128-sample render quantum.
declare const sampleRate: number;
declare function registerProcessor(name: string, processor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

const CHUNK = 4096;

class MicCaptureProcessor extends AudioWorkletProcessor {
  private buffer = new Float32Array(CHUNK);
  private filled = 0;

  constructor() {
    super();
    this.port.postMessage({ type: 'ready', sampleRate });
  }

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    let offset = 0;
    while (offset < channel.length) {
      const n = Math.min(channel.length - offset, CHUNK - this.filled);
      this.buffer.set(channel.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === CHUNK) {
        this.port.postMessage({ type: 'chunk', samples: this.buffer }, [this.buffer.buffer]);
        this.buffer = new Float32Array(CHUNK);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('ondevice-mic-capture', MicCaptureProcessor);
