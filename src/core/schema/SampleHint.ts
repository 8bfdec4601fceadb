import * as v from 'valibot';
import { strict, whole } from './schemaMessages';

const safeDim = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/** Concrete values for demos, warm-up and tests of models with symbolic dims. */
export const SampleHintSchema = strict(
  {
    /** Concrete dims per input name. */
    dims: v.exactOptional(v.record(v.string(), v.array(safeDim, 'expected an array of dims'), 'expected an object keyed by input name')),
    /** A constant per input (e.g. a sample rate, or 0 for an initial recurrent state). */
    fill: v.exactOptional(
      v.record(
        v.string(),
        v.pipe(v.number('expected a finite number'), v.finite('expected a finite number')),
        'expected an object keyed by input name',
      ),
    ),
    /** Value range [min, max] per input for generated data (e.g. a normalised image). */
    range: v.exactOptional(
      v.record(
        v.string(),
        whole(
          v.pipe(
            v.strictTuple([v.pipe(v.number(), v.finite()), v.pipe(v.number(), v.finite())]),
            v.check(([min, max]) => min < max),
          ),
          'expected [min, max] with min < max',
        ),
        'expected an object keyed by input name',
      ),
    ),
  },
  '{dims?, fill?, range?}',
);
export type SampleHint = v.InferOutput<typeof SampleHintSchema>;
