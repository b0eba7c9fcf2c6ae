// A real Daphne serving the built app, started and stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url))
export const BACKEND_DIR = join(REPO_DIR, 'backend')
const VENV_BIN = join(REPO_DIR, '.venv', 'bin')

/** Where the running server's PID is written, so a restarted one is still stopped at teardown. */
export const pidFile = (varDir: string) => join(varDir, 'daphne.pid')

export function serverEnv(varDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DJANGO_SECRET_KEY: 'browser-tests-only-secret-key-0123456789-abcdefghijklmnop',
    CHAT_VAR_DIR: varDir,
    DEBUG: '0',
    // Production's settings with a fast password hasher: PBKDF2 costs a quarter second of a core per sign-up.
    DJANGO_SETTINGS_MODULE: 'config.settings_test',
    // Every test signs people up from 127.0.0.1; the limit itself has backend tests.
    CHAT_SIGNUP_RATE: '100000/3600s',
    // Web Push on, as `make run` has it: the page carries the public key (a pair for these tests only).
    VAPID_PRIVATE_KEY: 'OZA3G33apXsZiVjoY6KxPHsj1lc8BZPEZ4Sji8kHyeU',
    VAPID_PUBLIC_KEY: 'BNo6CLUIFBU9cyKONmKmx29BYxjrXx6zVoxcYw9wV8zBCm0ulb_Q5cHSYUPUg0AlxbYoftffnTlFRr5Mc_rYKOU',
  }
  // The shared machine's Redis and PostgreSQL stay untouched: SQLite and in-memory layers.
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'DEV_ORIGINS', 'VITE_DEV_MODE']) delete env[name]
  return { ...env, ...extra }
}

export function migrate(varDir: string): void {
  const result = spawnSync(join(VENV_BIN, 'python'), ['manage.py', 'migrate', '--noinput'], {
    cwd: BACKEND_DIR,
    env: serverEnv(varDir),
    encoding: 'utf8',
  })
  if (result.status !== 0) throw new Error(`migrate failed:\n${result.stdout}\n${result.stderr}`)
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export interface RunningServer {
  pid: number
  child: ChildProcess
  output(): string
}

export async function startDaphne(port: number, varDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  // Output goes to a file, not a pipe: the server may outlive the worker that started it.
  const logPath = join(varDir, `daphne-${Date.now()}.log`)
  const logFd = openSync(logPath, 'a')
  const child = spawn(
    join(VENV_BIN, 'python'),
    ['-m', 'chat.serve', '--bind', '127.0.0.1', '--port', String(port)],
    { cwd: BACKEND_DIR, env: serverEnv(varDir, extraEnv), stdio: ['ignore', logFd, logFd] },
  )
  if (!child.pid) throw new Error('daphne did not start')
  writeFileSync(pidFile(varDir), String(child.pid))
  const output = () => readFileSync(logPath, 'utf8')
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, child, output)
  return { pid: child.pid, child, output }
}

/** Polls `url` until it answers 2xx; fails early, with the log, if `child` exits. */
export async function waitForHttp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}:\n${log()}`)
    try {
      const response = await fetch(url)
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} did not answer in time:\n${log()}`)
}

/** Stops the server whose PID the file names (SIGTERM, then SIGKILL). */
export async function stopRecorded(varDir: string): Promise<void> {
  let pid: number
  try {
    pid = Number(readFileSync(pidFile(varDir), 'utf8'))
  } catch {
    return
  }
  await stopPid(pid)
}

export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  if (!alive()) return
  process.kill(pid, signal)
  const deadline = Date.now() + 10_000
  while (alive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  if (alive()) process.kill(pid, 'SIGKILL')
}
