import { OnDeviceError } from '../../index';
import type { TensorData } from '../../index';

export interface DecodedText {
  text: string;
  /** Mean probability of the characters kept; 0 when none were. */
  score: number;
}

/**
 * Greedy CTC decoding as PaddleOCR's CTCLabelDecode: the most likely class at each time step, repeats
 * merged, blanks (class 0) dropped. Takes the recogniser's softmax output, [N, T, classes].
 * `stepsOf[n]`, when given, decodes item n over its first steps only: in a batch padded to its widest
 * line, the steps past a shorter line's own width see padding, not text.
 *
 * @example
 * const [{ text, score }] = ctcDecode(outputs['softmax_11.tmp_0'], charset);
 */
export function ctcDecode(probabilities: TensorData, charset: readonly string[], stepsOf?: readonly number[]): DecodedText[] {
  const [batch, steps, classes] = probabilities.dims;
  if (probabilities.dims.length !== 3 || classes !== charset.length || !(probabilities.data instanceof Float32Array)) {
    throw new OnDeviceError(
      'INVALID_INPUT',
      `Recogniser output ${JSON.stringify(probabilities.dims)} does not fit a charset of ${charset.length} classes`,
      { dims: probabilities.dims, charsetSize: charset.length },
    );
  }
  const data = probabilities.data;
  const results: DecodedText[] = [];
  for (let n = 0; n < batch; n++) {
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    const own = Math.min(steps, stepsOf?.[n] ?? steps);
    for (let t = 0; t < own; t++) {
      const offset = (n * steps + t) * classes;
      let best = 0;
      let bestProbability = data[offset];
      for (let c = 1; c < classes; c++) {
        if (data[offset + c] > bestProbability) {
          best = c;
          bestProbability = data[offset + c];
        }
      }
      if (best !== 0 && best !== previous) {
        text += charset[best];
        sum += bestProbability;
        kept++;
      }
      previous = best;
    }
    results.push({ text, score: kept === 0 ? 0 : sum / kept });
  }
  return results;
}
