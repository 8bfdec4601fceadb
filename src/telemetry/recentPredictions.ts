/** The input names of this context's recent predictions, so `reportFeedback({ input })` can name its one tensor. */
const MAX_REMEMBERED = 1000;
const inputNames = new Map<string, string[]>();

export function rememberPrediction(predictionId: string, names: string[]): void {
  inputNames.delete(predictionId);
  inputNames.set(predictionId, names);
  // A Map iterates in insertion order: the first key is the oldest.
  if (inputNames.size > MAX_REMEMBERED) inputNames.delete(inputNames.keys().next().value as string);
}

/** The input names of `predictionId`'s run in this context, or undefined when it is not (or no longer) known. */
export function inputNamesOf(predictionId: string): string[] | undefined {
  return inputNames.get(predictionId);
}
