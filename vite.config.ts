import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { wgsl } from './wgsl-plugin.ts';

// The studio is a static app: the bundled model and samples are served from public/.
export default defineConfig({
  plugins: [wgsl(), react()],
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  server: { host: '127.0.0.1', port: 5173 },
  worker: { format: 'es', plugins: () => [wgsl()] },
});
