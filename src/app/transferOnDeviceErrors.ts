import * as Comlink from 'comlink';
import { OnDeviceError } from '../index';

type SerializedOnDeviceError = ReturnType<OnDeviceError['toJSON']>;
interface SerializedThrow {
  /** What comlink's own handler reads, so a side without this handler still gets an Error with the message. */
  isError: true;
  value: { name: string; message: string; stack?: string };
  onDeviceError: SerializedOnDeviceError;
}

const INSTALLED = Symbol.for('ondevice-demo.transferOnDeviceErrors');

/**
 * Let `OnDeviceError` cross the demo's pipeline worker: comlink's own "throw" handler keeps only an
 * error's name, message and stack (comlink's README, "Transfer handlers"), so a code would arrive as a plain Error. Thrown values cross as `OnDeviceError#toJSON()` and are rebuilt
 * with its constructor; anything else thrown becomes INFERENCE_FAILED with its message. What arrives in
 * another shape (a worker without this handler) goes to the handler this one replaced. Call it on both
 * sides, before the first call.
 */
export function transferOnDeviceErrors(): void {
  const previous = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, unknown> & { [INSTALLED]?: true };
  if (!previous || previous[INSTALLED]) return;
  const handler: Comlink.TransferHandler<unknown, unknown> & { [INSTALLED]: true } = {
    [INSTALLED]: true,
    canHandle: (value): value is unknown => previous.canHandle(value),
    serialize(thrown) {
      const { value } = thrown as { value: unknown };
      const error =
        value instanceof OnDeviceError
          ? value
          : new OnDeviceError('INFERENCE_FAILED', value instanceof Error ? value.message : String(value));
      const serialized: SerializedThrow = {
        isError: true,
        value: { name: error.name, message: error.message, stack: error.stack },
        onDeviceError: error.toJSON(),
      };
      return [serialized, []];
    },
    deserialize(serialized) {
      const own = (serialized as Partial<SerializedThrow>).onDeviceError;
      if (!own) return previous.deserialize(serialized);
      throw new OnDeviceError(own.code, own.message, own.details);
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}
