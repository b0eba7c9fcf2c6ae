// Browser tests: a real Daphne (started by globalSetup) and a real Chromium,
// driven from Node with playwright-core. One file at a time: they share a server.
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['**/*.browser.test.ts'],
    environment: 'node',
    globalSetup: ['./globalSetup.ts'],
    setupFiles: ['./failureLog.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
  },
})
