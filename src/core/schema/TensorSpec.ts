import * as v from 'valibot';
import { ELEMENT_TYPES } from '../elementTypes';
import { got, nonEmptyString, strict, whole } from './schemaMessages';

const elementType = v.picklist(ELEMENT_TYPES, (i) => `${got(i)} is not an onnxruntime element type (${ELEMENT_TYPES.join(', ')})`);

/**
 * A model input or output. In `shape`, a fixed dim is a number; a symbolic dim is its name (`'batch'`),
 * or `'?'` when the model leaves it unnamed. Symbolic dims accept any size.
 */
export const TensorSpecSchema = strict(
  {
    name: nonEmptyString,
    type: elementType,
    // Symbolic dims are strings; onnxruntime reports an unnamed one as ''.
    shape: whole(
      v.array(v.union([v.string(), v.pipe(v.number(), v.safeInteger(), v.minValue(0))])),
      'expected an array of fixed dims (integers >= 0) and symbolic dims (strings)',
    ),
  },
  '{name, type, shape}',
);
export type TensorSpec = v.InferOutput<typeof TensorSpecSchema>;
