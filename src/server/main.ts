// `npm start`: app + library + models (+ collector) on one port.
// Env: PORT (default 8080), HOST (default 127.0.0.1), ONDEVICE_ISOLATION=0 to omit COOP/COEP,
// ONDEVICE_FIXTURES_DIR to also serve a folder at /fixtures/ (tests), ONDEVICE_CSP to send that
// Content-Security-Policy header on every response (strict-CSP tests).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAppServer } from './createAppServer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';

const server = createAppServer({
  distDir: path.join(root, 'dist'),
  modelsDir: path.join(root, 'public/models'),
  registryFile: path.join(root, 'models/registry.json'),
  isolation: process.env.ONDEVICE_ISOLATION !== '0',
  headers: process.env.ONDEVICE_CSP ? { 'Content-Security-Policy': process.env.ONDEVICE_CSP } : undefined,
  mounts: process.env.ONDEVICE_FIXTURES_DIR ? { '/fixtures/': process.env.ONDEVICE_FIXTURES_DIR } : {},
});

server.listen(port, host, () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  console.log(`ondevice listening on http://${host}:${actualPort}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
