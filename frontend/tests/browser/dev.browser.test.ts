// Development as the README describes it: the Vite dev server beside Daphne.
// 1. The app served by Vite talks to Daphne across origins (CORS with
//    credentials, CSRF, the socket's origin check, all from DEV_ORIGINS).
// 2. Django's own page with django-vite's dev mode loads the app from Vite.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PageProblems, Person, eventually, launchChromium } from './browser'
import { REPO_DIR, freePort, migrate, startDaphne, stopPid, waitForHttp } from './server'

let browser: Browser
let vite: ChildProcess | undefined
let daphnePid: number | undefined
let varDir: string
let vitePort: number
let daphnePort: number

beforeAll(async () => {
  varDir = mkdtempSync(join(tmpdir(), 'chat-dev-'))
  ;[vitePort, daphnePort] = [await freePort(), await freePort()]
  const viteOrigin = `http://127.0.0.1:${vitePort}`
  migrate(varDir)
  const daphne = await startDaphne(daphnePort, varDir, {
    DEBUG: '1',
    DEV_ORIGINS: viteOrigin,
    VITE_DEV_MODE: '1',
    VITE_DEV_SERVER_HOST: '127.0.0.1',
    VITE_DEV_SERVER_PORT: String(vitePort),
  })
  daphnePid = daphne.pid
  const logPath = join(varDir, 'vite.log')
  const logFd = openSync(logPath, 'a')
  vite = spawn(join(REPO_DIR, 'node_modules', '.bin', 'vite'), ['--host', '127.0.0.1', '--port', String(vitePort), '--strictPort'], {
    cwd: REPO_DIR,
    env: { ...process.env, VITE_HTTP_BASE: `http://127.0.0.1:${daphnePort}` },
    stdio: ['ignore', logFd, logFd],
  })
  await waitForHttp(`${viteOrigin}/`, vite, () => readFileSync(logPath, 'utf8'))
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (vite?.pid) await stopPid(vite.pid)
  if (daphnePid) await stopPid(daphnePid)
  rmSync(varDir, { recursive: true, force: true })
})

describe('development servers', () => {
  it('runs the app from the Vite dev server against Daphne on another origin', async () => {
    const problems = new PageProblems()
    const context = await browser.newContext()
    const dana = await Person.open(context, problems, `http://127.0.0.1:${vitePort}`, '/r/devroom', 'dana')
    await dana.signUp()
    await eventually(() => dana.onlineNames()).toEqual(['dana'])
    await dana.say('hello from the dev server')
    await eventually(() => dana.messagesExactly('hello from the dev server').count()).toBe(1)
    await eventually(() => dana.messagesWith('Sending…').count()).toBe(0)
    // A reload keeps the session (cookie from Daphne's origin) and the room's history.
    await dana.page.reload()
    await eventually(() => dana.messagesExactly('hello from the dev server').count()).toBe(1)
    expect(await dana.connection.textContent()).not.toContain('Reconnecting')
    await context.close()
    problems.expectNone()
  })

  it("serves Django's page with the bundle from the Vite dev server (django-vite dev mode)", async () => {
    const problems = new PageProblems()
    const context = await browser.newContext()
    const page = await problems.watch(await context.newPage())
    const html = await (await fetch(`http://127.0.0.1:${daphnePort}/`)).text()
    expect(html).toContain(`http://127.0.0.1:${vitePort}/static/@vite/client`)
    await page.goto(`http://127.0.0.1:${daphnePort}/`)
    await page.getByRole('button', { name: 'Sign up' }).waitFor()
    await context.close()
    problems.expectNone()
  })
})
