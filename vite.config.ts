import { defineConfig } from 'vite';

// The demo app (index.html + src/app). The library, classic script and worker are built by
// scripts/build.ts with their own settings.
export default defineConfig({
  build: { target: 'es2022', sourcemap: true },
  server: {
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
});
