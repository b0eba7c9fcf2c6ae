// `npm run screenshots` (make screenshots): the README's pictures, taken by
// screenshots.ts against the same real Daphne the browser tests use. Not part
// of `make test`: it writes into docs/.
import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    include: ['screenshots.ts'],
    environment: 'node',
    globalSetup: ['./globalSetup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
})
