// Builds the app if its sources are newer than the bundle, migrates a fresh
// SQLite database in a temp dir and starts Daphne on a free loopback port.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { REPO_DIR, freePort, migrate, startDaphne, stopRecorded } from './server'

declare module 'vitest' {
  export interface ProvidedContext {
    serverPort: number
    varDir: string
  }
}

function newestMtime(path: string): number {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))))
}

function buildIfStale(): void {
  const manifest = join(REPO_DIR, 'frontend', 'dist', '.vite', 'manifest.json')
  let built = 0
  try {
    built = statSync(manifest).mtimeMs
  } catch {
    // Never built.
  }
  const sources = ['frontend/src', 'frontend/public', 'frontend/index.html', 'vite.config.js', 'package.json']
  const newest = Math.max(...sources.map((path) => newestMtime(join(REPO_DIR, path))))
  if (built >= newest) return
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build:
  // the tests must drive the bundle people get.
  const env = { ...process.env, NODE_ENV: 'production' }
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO_DIR, encoding: 'utf8', env })
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`)
}

export default async function setup(project: TestProject) {
  buildIfStale()
  const varDir = mkdtempSync(join(tmpdir(), 'chat-browser-'))
  const port = await freePort()
  try {
    migrate(varDir)
    await startDaphne(port, varDir)
  } catch (error) {
    await stopRecorded(varDir)
    rmSync(varDir, { recursive: true, force: true })
    throw error
  }
  project.provide('serverPort', port)
  project.provide('varDir', varDir)
  return async () => {
    await stopRecorded(varDir)
    rmSync(varDir, { recursive: true, force: true })
  }
}
