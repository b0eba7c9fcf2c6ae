// Two (or more) people in real Chromium contexts against a real Daphne.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { PageProblems, Person, TestBrowser, eventually } from './browser'
import { REPO_DIR, pidFile, startDaphne, stopPid } from './server'

const port = inject('serverPort')
const varDir = inject('varDir')
const baseUrl = `http://127.0.0.1:${port}`

/** What Chromium itself logs while the server is gone: refused connections. */
const OUTAGE_NOISE = [/WebSocket connection to .* failed/, /ERR_CONNECTION_REFUSED/, /Failed to load resource/]

const browser = new TestBrowser()

const person = (problems: PageProblems, path: string, username: string) => browser.person(problems, baseUrl, path, username)

beforeAll(() => browser.launch())

afterAll(() => browser.close())

describe('chat in the browser', () => {
  it('shows the server’s own error text when logging in or signing up fails', async () => {
    const problems = new PageProblems()
    const visitor = await person(problems, '/', 'nobody')
    const { page } = visitor
    await problems.allowWhile([/status of 400/], async () => {
      await page.getByLabel('Username', { exact: true }).fill('nobody')
      await page.getByLabel('Password', { exact: true }).fill('not-the-password')
      await page.getByRole('button', { name: 'Log in' }).click()
      const alert = page.getByRole('alert')
      await alert.waitFor()
      const loginError = (await alert.textContent())?.trim() ?? ''
      expect(loginError).not.toBe('')
      expect(loginError).not.toMatch(/Could not reach/)

      await page.getByLabel('Username', { exact: true }).fill('shortpass')
      await page.getByLabel('Password', { exact: true }).fill('abc')
      await page.getByRole('button', { name: 'Sign up' }).click()
      // Django's password validators name what is wrong.
      await eventually(async () => (await alert.textContent()) ?? '').toMatch(/short|characters/i)
    })
    await page.getByLabel('Username', { exact: true }).waitFor()
    problems.expectNone()
  })

  it('runs under the Content-Security-Policy, which refuses inline script', async () => {
    const header = (await fetch(`${baseUrl}/`)).headers.get('content-security-policy') ?? ''
    expect(header).toMatch(/script-src 'self'(;|$)/)
    expect(header).toContain(`connect-src 'self' ws://127.0.0.1:${port}`)
    expect(header).not.toContain('unsafe-inline')

    // The whole app under the policy: sign-up, the socket, a room, a message, a reload.
    const problems = new PageProblems()
    const vera = await person(problems, '/r/policy', 'vera')
    await vera.signUp()
    await eventually(() => vera.onlineNames()).toEqual(['vera'])
    await vera.say('under the policy')
    await eventually(() => vera.messagesExactly('under the policy').count()).toBe(1)
    await vera.page.reload()
    await eventually(() => vera.messagesExactly('under the policy').count()).toBe(1)
    problems.expectNone()

    // The policy is enforced, and a violation is seen: an injected inline script does not run.
    await problems.allowWhile([/Content Security Policy/], async () => {
      await vera.page.evaluate(() => {
        const script = document.createElement('script')
        script.textContent = 'window.__inlineRan = true'
        document.head.append(script)
      })
      await eventually(async () => problems.problems.length).toBe(1)
    })
    expect(problems.problems[0]).toMatch(/CSP violation .*script-src-elem refused inline/)
    expect(await vera.page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined()
  })

  it('lets two people chat: presence, typing, plain-text bodies, reload', async () => {
    const problems = new PageProblems()
    const alice = await person(problems, '/r/general', 'alice')
    const bob = await person(problems, '/r/general', 'bob')
    await alice.signUp()
    await bob.signUp()

    await eventually(() => alice.onlineNames()).toEqual(['alice', 'bob'])
    await eventually(() => bob.onlineNames()).toEqual(['alice', 'bob'])
    expect(await alice.typing.textContent()).toBe('')

    await bob.composer.pressSequentially('Morning! Did the deploy go out?', { delay: 15 })
    await eventually(() => alice.typing.textContent()).toBe('bob is typing…')
    await bob.composer.press('Enter')
    await eventually(() => alice.messagesWith('Did the deploy go out?').count()).toBe(1)
    expect(await alice.messagesWith('Did the deploy go out?').textContent()).toContain('bob')
    await eventually(() => alice.typing.textContent()).toBe('')
    expect(await bob.composer.inputValue()).toBe('')

    // Shift+Enter breaks the line instead of sending.
    await alice.composer.pressSequentially('It did, at 9:40.')
    await alice.composer.press('Shift+Enter')
    await alice.composer.pressSequentially('Error rate is flat since.')
    expect(await alice.composer.inputValue()).toBe('It did, at 9:40.\nError rate is flat since.')
    await alice.composer.press('Enter')
    await eventually(() => bob.messagesWith('Error rate is flat since.').count()).toBe(1)

    const xss = '<img src=x onerror=alert(1)>'
    await alice.say(xss)
    await eventually(() => bob.messagesWith(xss).count()).toBe(1)
    expect(await bob.messagesWith(xss).textContent()).toContain('alice')
    expect(await bob.log.locator('img').count()).toBe(0)

    await bob.say('Nice. I’ll close the incident then.')
    await alice.say('Thanks — and please write the postmortem by Friday.')
    await eventually(() => bob.messagesWith('postmortem').count()).toBe(1)
    await eventually(() => alice.messagesWith('close the incident').count()).toBe(1)
    await eventually(() => alice.log.getByText('Sending…').count()).toBe(0)

    await bob.composer.pressSequentially('Sure, on it', { delay: 15 })
    await eventually(() => alice.typing.textContent()).toBe('bob is typing…')

    await alice.page.reload()
    expect(new URL(alice.page.url()).pathname).toBe('/r/general')
    await alice.page.getByRole('button', { name: 'Log out' }).waitFor()
    await eventually(() => alice.messagesWith('Did the deploy go out?').count()).toBe(1)
    expect(await alice.messagesWith(xss).count()).toBe(1)
    expect(await alice.log.getByRole('listitem').count()).toBe(5)
    problems.expectNone()
  })

  it('keeps the Online list and the room list usable on narrow screens', async () => {
    const problems = new PageProblems()
    const open = (viewport: { width: number; height: number }, path: string, username: string) =>
      browser.person(problems, baseUrl, path, username, { viewport })
    const phone = await open({ width: 375, height: 700 }, '/r/pocket', 'pat')
    const tablet = await open({ width: 900, height: 700 }, '/r/pocket', 'quinn')
    await phone.signUp()
    await tablet.signUp()
    await eventually(() => phone.onlineNames()).toEqual(['pat', 'quinn'])
    await eventually(() => tablet.onlineNames()).toEqual(['pat', 'quinn'])
    // On a phone the rooms and the Join field are right there, no drawer to open.
    await phone.join('corner')
    await phone.say('from a small screen')
    await phone.rooms.getByRole('link', { name: /^pocket/ }).click()
    await phone.page.waitForURL('**/r/pocket')
    await phone.rooms.getByRole('link', { name: /^corner/ }).click()
    await eventually(() => phone.messagesExactly('from a small screen').count()).toBe(1)
    await phone.page.screenshot({ path: join(REPO_DIR, 'test-results', 'phone.png') })
    problems.expectNone()
  })

  it('counts unread messages on the link of a room not being viewed', async () => {
    const problems = new PageProblems()
    const carol = await person(problems, '/r/news', 'carol')
    await carol.signUp()
    await carol.log.waitFor()
    await carol.join('lobby')

    const dave = await person(problems, '/r/news', 'dave')
    await dave.signUp()
    await dave.say('Release 2.4 is out')
    await dave.say('Changelog is in the wiki')

    const newsLink = carol.rooms.getByRole('link', { name: /^news/ })
    await eventually(() => newsLink.textContent()).toMatch(/^#?news 2$/)
    expect(await carol.rooms.getByRole('link', { name: 'news 2' }).count()).toBe(1)
    expect(await carol.rooms.getByRole('link', { name: 'lobby', exact: true }).count()).toBe(1)

    await newsLink.click()
    await carol.page.waitForURL('**/r/news')
    await eventually(() => carol.messagesWith('Changelog is in the wiki').count()).toBe(1)
    await eventually(() => carol.rooms.getByRole('link', { name: 'news', exact: true }).count()).toBe(1)
    problems.expectNone()
  })

  it('returns every tab of a browser to the sign-in form on logout', async () => {
    const problems = new PageProblems()
    const context = await browser.newContext()
    const erin = await Person.open(context, problems, baseUrl, '/r/lobby', 'erin')
    await erin.signUp()
    const secondTab = await problems.watch(await context.newPage())
    await secondTab.goto(`${baseUrl}/r/lobby`)
    await secondTab.getByRole('log', { name: 'Messages' }).waitFor()

    await erin.page.getByRole('button', { name: 'Log out' }).click()
    await erin.page.getByRole('button', { name: 'Log in' }).waitFor()
    await secondTab.getByRole('button', { name: 'Log in' }).waitFor({ timeout: 10_000 })
    expect(await secondTab.getByRole('button', { name: 'Log out' }).count()).toBe(0)
    problems.expectNone()
  })

  it('does not show one person’s unsent draft to the next person on the tab', async () => {
    const problems = new PageProblems()
    const mallory = await person(problems, '/r/drafts', 'mallory')
    await mallory.signUp()
    await mallory.composer.fill('a draft only mallory should see')
    await mallory.page.getByRole('button', { name: 'Log out' }).click()
    const nina = new Person(mallory.page, 'nina', 'nina-Passw0rd-long!')
    await nina.signUp()
    await nina.log.waitFor()
    expect(await nina.composer.inputValue()).toBe('')
    problems.expectNone()
  })

  it('pages back through history, keeps the reading position and offers a jump to the latest', async () => {
    const problems = new PageProblems()
    const writers = [
      await person(problems, '/r/history', 'heidi'),
      await person(problems, '/r/history', 'ivan'),
      await person(problems, '/r/history', 'judy'),
    ]
    for (const writer of writers) await writer.signUp()
    // 54 messages, 18 per person: above one page (50), within the send rate limit.
    for (let n = 1; n <= 54; n++) {
      const writer = writers[(n - 1) % writers.length]!
      await writer.say(`History line ${n}`)
    }
    const [heidi, ivan] = writers as [Person, Person, Person]
    await eventually(() => heidi.messagesWith('History line 54').count()).toBe(1)
    await eventually(() => ivan.log.getByText('Sending…').count()).toBe(0)

    await ivan.page.reload()
    await eventually(() => ivan.messagesWith('History line 54').count()).toBe(1)
    // The log is a virtual list: its rows say how many it holds, however few are rendered.
    const held = async () => Number(await ivan.log.getByRole('listitem').first().getAttribute('aria-setsize'))
    expect(await held()).toBe(50)
    await ivan.log.getByRole('button', { name: 'Load older messages' }).waitFor()

    // Scrolled to the top, the older page loads by itself, and the reader stays where they were.
    await ivan.log.evaluate((element) => element.scrollTo({ top: 0 }))
    await eventually(held).toBe(54)
    expect(await ivan.messagesExactly('History line 1').count()).toBe(1)
    expect(await ivan.log.evaluate((element) => element.scrollTop)).toBeGreaterThan(100)
    await eventually(() => ivan.log.getByRole('button', { name: 'Load older messages' }).count()).toBe(0)

    // Not at the bottom: a new message does not move the log, a button offers to jump.
    const before = await ivan.log.evaluate((element) => element.scrollTop)
    await heidi.say('Anyone still reading?')
    const jump = ivan.page.getByRole('button', { name: /^Jump to latest/ })
    await eventually(() => jump.textContent()).toBe('Jump to latest, 1 new')
    expect(await ivan.log.evaluate((element) => element.scrollTop)).toBe(before)
    await jump.click()
    await eventually(() =>
      ivan.log.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight),
    ).toBeLessThan(5)
    await eventually(() => jump.count()).toBe(0)

    // At the bottom: the log follows new messages.
    await heidi.say('Good, the log sticks to the bottom')
    await eventually(() => ivan.messagesWith('sticks to the bottom').count()).toBe(1)
    await eventually(() =>
      ivan.log.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight),
    ).toBeLessThan(5)
    expect(await jump.count()).toBe(0)
    problems.expectNone()
  })

  it('keeps a message over the rate limit Sending… and sends it by itself once the window allows', async () => {
    const problems = new PageProblems()
    const kate = await person(problems, '/r/burst', 'kate')
    await kate.signUp()
    await kate.log.waitFor()
    // The server allows 20 sends per user in 10 s; the 21st waits for the window.
    for (let n = 1; n <= 21; n++) await kate.say(`Burst ${n}`)
    const waiting = kate.log.getByRole('listitem').filter({ hasText: 'Sending…' })
    await eventually(() => waiting.count()).toBe(1)
    expect(await waiting.textContent()).toContain('Burst 21')
    expect(await kate.log.getByText('Failed').count()).toBe(0)
    expect(await kate.log.getByRole('listitem').count()).toBe(21)

    await eventually(() => waiting.count(), 25_000).toBe(0)
    expect(await kate.log.getByText('Failed').count()).toBe(0)
    const written = Array.from({ length: 21 }, (_, n) => `Burst ${n + 1}`)
    expect(await kate.log.locator('.message-body').allTextContents()).toEqual(written)
    await kate.page.reload()
    await eventually(() => kate.log.locator('.message-body').allTextContents()).toEqual(written)
    problems.expectNone()
  })

  it('rides out a server crash: Reconnecting…, Sending…, then delivered exactly once', async () => {
    const problems = new PageProblems()
    const frank = await person(problems, '/r/ops', 'frank')
    const grace = await person(problems, '/r/ops', 'grace')
    await frank.signUp()
    await grace.signUp()
    await grace.say('Before the crash')
    await eventually(() => frank.messagesWith('Before the crash').count()).toBe(1)
    expect(await frank.connection.textContent()).toBe('')

    const body = 'Typed while the server was down'
    await problems.allowWhile(OUTAGE_NOISE, async () => {
      await stopPid(Number(readFileSync(pidFile(varDir), 'utf8')), 'SIGKILL')
      await eventually(() => frank.connection.textContent()).toMatch(/Reconnecting…/)
      await frank.page.getByRole('button', { name: 'Reconnect now' }).waitFor()
      await eventually(() => frank.connection.textContent(), 30_000).toMatch(/Reconnecting… in \d+ s/)

      await frank.say(body)
      const mine = frank.messagesWith(body)
      await eventually(() => mine.textContent()).toContain('Sending…')
      // The outbox must not give up while the server is away for a while.
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(await mine.textContent()).toContain('Sending…')

      await startDaphne(port, varDir)
      const reconnectNow = frank.page.getByRole('button', { name: 'Reconnect now' })
      if (await reconnectNow.isVisible()) await reconnectNow.click().catch(() => undefined)

      await eventually(() => frank.connection.textContent(), 60_000).toBe('')
      await eventually(() => grace.connection.textContent(), 60_000).toBe('')
      await eventually(() => frank.log.getByText('Sending…').count(), 30_000).toBe(0)
    })

    await eventually(() => grace.messagesWith(body).count(), 30_000).toBe(1)
    expect(await frank.messagesWith(body).count()).toBe(1)
    expect(await frank.messagesWith(body).textContent()).not.toContain('Failed')
    // Nothing arrives twice later either, and the store holds it once.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(await frank.messagesWith(body).count()).toBe(1)
    expect(await grace.messagesWith(body).count()).toBe(1)
    expect(await frank.messagesWith('Before the crash').count()).toBe(1)
    await grace.page.reload()
    await eventually(() => grace.messagesWith(body).count()).toBe(1)
    expect(await grace.log.getByRole('listitem').count()).toBe(2)
    problems.expectNone()
  })
})
