import type { GeneratedModel } from './generatedModel';
import { counterModel } from './models/counterModel';
import { dtypesModel } from './models/dtypesModel';
import { tinyMlpModel } from './models/tinyMlpModel';

/** Every model `npm run models:generate` writes to models/generated/. */
export const GENERATED_MODELS: readonly GeneratedModel[] = [dtypesModel, counterModel, tinyMlpModel];
