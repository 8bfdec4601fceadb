import { OnDeviceError } from '../core/OnDeviceError';

export type Ort = typeof import('onnxruntime-node');

let ortPromise: Promise<Ort> | undefined;

/**
 * onnxruntime-node, imported on first use: it is an optional peer dependency, so importing
 * `ondevice/node` must not fail where it is not installed — only loading a model does, with a clear code.
 */
export function loadOrt(): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').then(
    (module) => ((module as { default?: Ort }).default ?? module) as Ort,
    (error: Error) => {
      ortPromise = undefined;
      throw new OnDeviceError(
        'NOT_SUPPORTED',
        `ondevice/node needs the optional peer dependency onnxruntime-node (npm install onnxruntime-node): ${error.message}`,
        {},
        { cause: error },
      );
    },
  );
  return ortPromise;
}
