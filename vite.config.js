/// <reference types="vitest/config" />
// The app lives in frontend/. `vite build` writes frontend/dist with a manifest
// that django-vite reads; `vite` (npm run dev) serves the app on :5173 and talks
// to Daphne on :8000 across origins (see DEV_ORIGINS in the README).
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('./frontend', import.meta.url))

// django-vite's dev mode (VITE_DEV_MODE=1) asks the dev server for
// /static/<path>; the dev server itself serves the app from /.
const djangoStaticPrefix = {
  name: 'django-static-prefix',
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      if (req.url?.startsWith('/static/')) req.url = req.url.slice('/static'.length)
      next()
    })
  },
}

export default defineConfig(({ command }) => ({
  root,
  plugins: [react(), djangoStaticPrefix],
  // Built assets are served by Django under /static/; the dev server serves from /.
  base: command === 'build' ? '/static/' : '/',
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    rolldownOptions: {
      input: fileURLToPath(new URL('./frontend/src/main.tsx', import.meta.url)),
    },
  },
  test: {
    root,
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
}))
