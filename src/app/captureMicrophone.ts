import { OnDeviceError } from '../index';
import workletUrl from './micCaptureWorklet?worker&url';

export interface MicrophoneCapture {
  sampleRate: number;
  stop(): Promise<void>;
}

/**
 * Stream the microphone as mono Float32 chunks (through an AudioWorklet, off the main thread's audio
 * path). Permission problems become coded errors with the browser's reason.
 */
export async function captureMicrophone(onChunk: (samples: Float32Array) => void): Promise<MicrophoneCapture> {
  if (!navigator.mediaDevices?.getUserMedia || typeof AudioWorkletNode === 'undefined') {
    throw new OnDeviceError('NOT_SUPPORTED', 'This browser (or an insecure http:// page) offers no microphone access to web pages');
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (error) {
    const name = (error as DOMException).name;
    const reason =
      name === 'NotAllowedError'
        ? 'microphone permission was denied — allow it in the address bar and try again'
        : name === 'NotFoundError'
          ? 'no microphone was found'
          : (error as Error).message;
    throw new OnDeviceError('NOT_SUPPORTED', `Cannot use the microphone: ${reason}`, { name });
  }
  const context = new AudioContext();
  try {
    await context.audioWorklet.addModule(workletUrl);
    const source = context.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(context, 'ondevice-mic-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: 'explicit',
    });
    node.port.onmessage = (event: MessageEvent<{ type: string; samples?: Float32Array }>) => {
      if (event.data.type === 'chunk' && event.data.samples) onChunk(event.data.samples);
    };
    source.connect(node);
    return {
      sampleRate: context.sampleRate,
      async stop() {
        node.port.onmessage = null;
        source.disconnect();
        for (const track of stream.getTracks()) track.stop();
        await context.close();
      },
    };
  } catch (error) {
    for (const track of stream.getTracks()) track.stop();
    await context.close();
    throw new OnDeviceError('NOT_SUPPORTED', `Cannot process microphone audio here: ${(error as Error).message}`);
  }
}
