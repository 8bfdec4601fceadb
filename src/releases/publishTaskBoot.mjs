// A publish-check child started from the TypeScript sources: register tsx, run one task of the module named
// on the command line (argv[2]) with the arguments the server sends over IPC, answer, and exit.
const entry = process.argv[2];
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
const [{ tasks }, { serializeError }] = await Promise.all([
  import(entry),
  import(new URL('../core/OnDeviceError.ts', import.meta.url).href),
]);
process.once('message', async ({ task, args }) => {
  try {
    const value = await tasks[task](args);
    process.send({ ok: true, value }, () => process.exit(0));
  } catch (error) {
    process.send({ ok: false, error: serializeError(error) }, () => process.exit(0));
  }
});
process.send({ ready: true });
