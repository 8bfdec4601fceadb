import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where registry ids are looked up when no `modelsDir` is given: `$ONDEVICE_MODELS_DIR`, else the
 * folder `npm run models:sync` fills (`public/models/`, holding `registry.json` and the model files).
 */
export function defaultModelsDir(): string {
  const fromEnv = process.env.ONDEVICE_MODELS_DIR;
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../public/models');
}
