// comlink ships its Node adapter as dist/esm/node-adapter.mjs with types in node-adapter.d.ts, which
// TypeScript does not pair with an .mjs specifier; Node needs the extension, so the types are mapped here.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/esm/node-adapter';
}
