// The layer rule (CONTRIBUTING.md, "Layers point one way"): each folder of src/ may import only the folders listed for it,
// so shared pieces live in src/core and every arrow points one way. `index` is the public entry
// (src/index.ts); the demo app may use only that (and sw, to register the service worker). Type-only imports count too: a type is a dependency.
import path from 'node:path';

/** folder → the folders it may import (besides itself). A folder of src/ that is not listed here is a lint error. */
export const LAYERS = {
  core: [],
  // The Node servers' shared plumbing: body reading, errors, access checks, routing, rate limits, timeouts.
  http: ['core'],
  // SQLite/PostgreSQL opening, the schema migrations of the one shared database, the leader lease.
  db: ['core'],
  registry: ['core'],
  telemetry: ['core'],
  cache: ['core'],
  runtime: ['core', 'cache'],
  client: ['core', 'registry', 'telemetry', 'cache'],
  embed: ['core', 'client', 'index'],
  sw: ['core'],
  vite: ['core', 'sw'],
  app: ['index', 'sw'],
  // The public entry (src/index.ts) and the test-only entry (src/testing.ts).
  index: ['core', 'cache', 'client', 'embed', 'telemetry'],
  testing: ['core', 'client', 'runtime', 'embed', 'telemetry'],
  collector: ['core', 'http', 'db'],
  node: ['core', 'registry'],
  // sandbox runs model work in child processes it can kill; its children use node/ to load models.
  sandbox: ['core', 'registry', 'node'],
  // The /v2 Open Inference Protocol server; its sessions run in sandbox children.
  inference: ['core', 'registry', 'node', 'http', 'sandbox'],
  cli: ['core', 'registry', 'node', 'http', 'inference', 'retrain', 'sandbox'],
  // releases reads field metrics through the collector's database (src/releases/main.ts also starts a
  // standalone collector beside it) and loads uploads with onnxruntime-node in the sandbox to read their
  // signature and derive their pre-optimised copy.
  releases: ['core', 'registry', 'collector', 'node', 'http', 'db', 'sandbox'],
  // retrain (Node only) runs jobs beside the collector (its alerts, field samples), trains and exports
  // models (digits/ with tfjs and the ONNX encoder in node/), evaluates with onnxruntime-node in the sandbox
  // and ships candidates through releases.
  retrain: ['core', 'registry', 'collector', 'releases', 'node', 'http', 'db', 'sandbox'],
  // What `npm start` runs: the app server with every service above mounted on one port.
  start: ['core', 'http', 'collector', 'inference', 'releases', 'retrain'],
};

const srcRoot = path.resolve(import.meta.dirname, '..', 'src');

function layerOf(file) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  const [first, ...rest] = rel.split(path.sep);
  // A file directly in src/ (index.ts, testing.ts) is a layer of its own, named without its extension.
  if (rest.length === 0) return first.replace(/(\.d)?\.[cm]?[jt]s$/, '');
  return first;
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'src/ folders import only the layers below them (config/eslint-layers.js)' },
    messages: {
      upward: "src/{{from}} may not import src/{{to}} ('{{source}}'); {{from}} may import: {{allowed}}. Move the shared piece to src/core.",
      unlisted: 'src/{{from}} is not a layer: add it to LAYERS in config/eslint-layers.js with the folders it may import.',
    },
    schema: [],
  },
  create(context) {
    const from = layerOf(context.filename);
    if (!from) return {};
    if (!Object.hasOwn(LAYERS, from)) {
      return { Program: (node) => context.report({ node, messageId: 'unlisted', data: { from } }) };
    }
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
