// comlink 4.4 ships its ESM build and Node adapter without a package "exports" map, and its types sit
// next to the .mjs files under names TypeScript does not pair with them; this points the imports the
// collector uses (Node needs the ESM build: the "main" UMD build has no named exports there) at them.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  /** A worker_threads Worker or MessagePort. */
  export type NodeEndpoint = import('node:worker_threads').Worker | import('node:worker_threads').MessagePort;
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
