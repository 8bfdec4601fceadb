import { fileURLToPath } from 'node:url';

/** Repository paths for the Node model scripts (this file lives in scripts/onnx/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REGISTRY_PATH = `${REPO_ROOT}models/registry.json`;
export const GENERATED_DIR = `${REPO_ROOT}models/generated`;
/** Models trained in this repository (e.g. `npm run models:train-digits`), committed with their sha256. */
export const TRAINED_DIR = `${REPO_ROOT}models/trained`;
export const LOCAL_MODELS_DIR = `${REPO_ROOT}models/local`;
/** Served as /models/ by the dev server; gitignored, filled by `npm run models:sync`. */
export const PUBLIC_MODELS_DIR = `${REPO_ROOT}public/models`;
