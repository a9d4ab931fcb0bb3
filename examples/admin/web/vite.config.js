import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by `cargo run --example admin` at /admin/ (the built files are in dist/).
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096 },
});
