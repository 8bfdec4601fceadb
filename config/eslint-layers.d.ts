// Types of eslint-layers.js for the TypeScript that imports it (the layer rule's own test).
import type { ESLint } from 'eslint';

/** folder of src/ → the folders it may import (besides itself). */
export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare const layersPlugin: ESLint.Plugin;
