// Builds the visualizer into web/dist; web/ is the root (`vite web`, `vite build web`). The app
// imports the simulator, the protocol cores and the checker straight from ../src, which are plain
// TypeScript without Node APIs.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
  server: {
    host: '127.0.0.1',
    // ../src is outside the root: let the dev server read it
    fs: { allow: ['..'] },
  },
});
