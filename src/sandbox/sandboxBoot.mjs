// A sandbox child started from the TypeScript sources: register tsx, then load the child entry (argv[2]).
// The server's own `--import tsx` is not passed down on purpose (the child starts with an empty execArgv),
// so a compiled package starts sandboxChild.js directly and never needs tsx.
const entry = process.argv[2];
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
