/// <reference types="vitest/config" />
// The app lives in frontend/. `vite build` writes frontend/dist with a manifest
// that django-vite reads, and a .gz and a .br beside each text file for
// whitenoise to serve; `vite` (npm run dev) serves the app on :5173 (VITE_PORT)
// and talks to Daphne on :8000 across origins (see DEV_ORIGINS in the README).
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { brotliCompress, constants, gzip } from 'node:zlib'

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

// Compressed twins written at build time, so the server never compresses per
// request: whitenoise picks name.br or name.gz by Accept-Encoding. node:zlib
// does both at their strongest; a dozen lines rather than a plugin dependency
// (vite-plugin-compression has had no release for years; its successor would be
// one more package to keep up for what these lines do). Like whitenoise's own
// compressor, a twin is kept only when it saves at least 5 %.
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|map|txt)$/
const brotli = promisify(brotliCompress)
const gzipped = promisify(gzip)
function compressedTwins() {
  let outDir = ''
  return {
    name: 'compressed-twins',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir)
    },
    // After the bundle and the public files are written: every text file in dist.
    async closeBundle() {
      const entries = await readdir(outDir, { recursive: true, withFileTypes: true })
      const files = entries.filter((entry) => entry.isFile() && COMPRESSIBLE.test(entry.name))
      await Promise.all(
        files.map(async (entry) => {
          const path = join(entry.parentPath, entry.name)
          const content = await readFile(path)
          const twins = [
            ['.br', await brotli(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })],
            ['.gz', await gzipped(content, { level: 9 })],
          ]
          for (const [suffix, compressed] of twins) {
            if (compressed.length <= content.length * 0.95) await writeFile(path + suffix, compressed)
          }
        }),
      )
    },
  }
}

export default defineConfig(({ command }) => ({
  root,
  plugins: [react(), djangoStaticPrefix, compressedTwins()],
  // Built assets are served by Django under /static/; the dev server serves from /.
  base: command === 'build' ? '/static/' : '/',
  server: {
    // VITE_PORT to run beside another checkout; strict, so DEV_ORIGINS stays true.
    port: Number(process.env.VITE_PORT || 5173),
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
