// The layer rule (CONTRIBUTING.md, "Layers point one way"): each folder of src/ may import only the folders listed for it,
// so shared pieces live in src/core and every arrow points one way. `index` is the public entry
// (src/index.ts); the demo app may use only that (and sw, to register the service worker). Type-only imports count too: a type is a dependency.
import path from 'node:path';

/** folder → the folders it may import (besides itself). */
export const LAYERS = {
  core: [],
  registry: ['core'],
  telemetry: ['core'],
  cache: ['core'],
  runtime: ['core', 'cache'],
  client: ['core', 'registry', 'telemetry', 'cache'],
  embed: ['core', 'client', 'index'],
  sw: ['core'],
  vite: ['core', 'sw'],
  app: ['index', 'sw'],
  collector: ['core'],
  server: ['core', 'collector', 'serve', 'releases', 'retrain'],
  node: ['core', 'registry'],
  // sandbox runs model work in child processes it can kill; its children use node/ to load models.
  sandbox: ['core', 'registry', 'node'],
  // serve borrows the collector's loopback test and token-bucket limiter rather than copying them.
  serve: ['core', 'registry', 'node', 'collector', 'sandbox'],
  cli: ['core', 'registry', 'node', 'serve', 'retrain', 'sandbox'],
  // releases reads field metrics through the collector's database and answers with its route helpers,
  // and loads uploads with onnxruntime-node in the sandbox to read their signature and derive their copy.
  releases: ['core', 'registry', 'collector', 'node', 'sandbox'],
  // retrain (Node only) runs jobs beside the collector (its database, alerts, route helpers, field samples),
  // trains and exports models (digits/ with tfjs and the ONNX encoder in node/), evaluates with
  // onnxruntime-node in the sandbox and ships candidates through releases.
  retrain: ['core', 'registry', 'collector', 'releases', 'node', 'sandbox'],
};

const srcRoot = path.resolve(import.meta.dirname, '..', 'src');

function layerOf(file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first, ...rest] = rel.split(path.sep);
  if (rest.length === 0) return first.replace(/\.[cm]?[jt]s$/, '') === 'index' ? 'index' : first;
  return first;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ folders import only the layers below them (config/eslint-layers.js)' },
    messages: {
      upward: "src/{{from}} may not import src/{{to}} ('{{source}}'); {{from}} may import: {{allowed}}. Move the shared piece to src/core.",
    },
    schema: [],
  },
  create(context) {
    const from = layerOf(context.filename);
    if (!from || !(from in LAYERS)) return {};
    const allowed = LAYERS[from];
    function check(node) {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(context.filename), source));
      if (!to || to === from || allowed.includes(to)) return;
      context.report({
        node: node.source,
        messageId: 'upward',
        data: { from, to, source, allowed: allowed.length ? allowed.join(', ') : 'nothing of ours' },
      });
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export const layersPlugin = { rules: { 'one-way': rule } };
