// The app's shell: sending under the rate limit, the live room list, leaving a
// room for good, the Online list while disconnected, the phone layout and the
// skip link. Tests that need their own server settings (a small send rate) or
// stop the server start a Daphne of their own, so the shared one is untouched.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { PageProblems, Person, SCREEN, TestBrowser, eventually } from './browser'
import { freePort, migrate, pidFile, startDaphne, stopPid, stopRecorded } from './server'

const sharedUrl = `http://127.0.0.1:${inject('serverPort')}`
const PHONE = { width: 390, height: 844 }
/** What Chromium itself logs while the server is gone: refused connections. */
const OUTAGE_NOISE = [/WebSocket connection to .* failed/, /ERR_CONNECTION_REFUSED/, /Failed to load resource/]
/** Our own server's send rate: small, so a burst meets it within a few messages. */
const SEND_RATE = '3/4s'

const browser = new TestBrowser()
let ownPort: number
let ownVarDir: string
let ownUrl: string

beforeAll(async () => {
  await browser.launch()
  ownVarDir = mkdtempSync(join(tmpdir(), 'chat-shell-'))
  ownPort = await freePort()
  ownUrl = `http://127.0.0.1:${ownPort}`
  migrate(ownVarDir)
  await startDaphne(ownPort, ownVarDir, { CHAT_SEND_RATE: SEND_RATE })
})

afterAll(async () => {
  await browser.close()
  await stopRecorded(ownVarDir)
  rmSync(ownVarDir, { recursive: true, force: true })
})

const person = (problems: PageProblems, baseUrl: string, path: string, username: string, viewport = SCREEN) =>
  browser.person(problems, baseUrl, path, username, { viewport })

/** The group of the Rooms navigation under the heading `name`. */
function roomGroup(who: Person, name: 'Your rooms' | 'More rooms') {
  return who.rooms.locator('.room-group').filter({ has: who.page.getByRole('heading', { name, exact: true }) })
}

/** The bodies in the log, top to bottom. */
async function bodies(who: Person): Promise<string[]> {
  return who.log.locator('.message-body').allTextContents()
}

async function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null
    return `${element?.getAttribute('role') ?? element?.tagName.toLowerCase()}:${element?.getAttribute('aria-label') ?? element?.textContent?.trim()}`
  })
}

describe('the app shell', () => {
  it('keeps messages over the rate limit Sending… and sends them by themselves, in the order written', async () => {
    const problems = new PageProblems()
    const kim = await person(problems, ownUrl, '/r/burst', 'kim')
    await kim.signUp()
    await kim.log.waitFor()
    const written = Array.from({ length: 8 }, (_, n) => `Burst ${n + 1}`)
    for (const body of written) await kim.say(body)
    // The server takes 3 in any 4 s: the rest wait, never Failed.
    await eventually(() => kim.log.getByText('Sending…').count()).toBeGreaterThan(0)
    const failedSeen: number[] = []
    await eventually(async () => {
      failedSeen.push(await kim.log.getByText('Failed').count())
      return kim.log.getByText('Sending…').count()
    }, 40_000).toBe(0)
    expect(Math.max(...failedSeen)).toBe(0)
    expect(await bodies(kim)).toEqual(written)
    // Stored in that order too.
    await kim.page.reload()
    await eventually(() => bodies(kim)).toEqual(written)
    problems.expectNone()
  })

  it('lands a first-time user in general, and shows a room another person makes without a reload', async () => {
    const problems = new PageProblems()
    const lena = await person(problems, sharedUrl, '/', 'lena')
    await lena.signUp()
    await lena.page.waitForURL('**/r/general')
    await lena.page.getByRole('heading', { level: 2, name: 'general' }).waitFor()
    await eventually(() => roomGroup(lena, 'Your rooms').getByRole('link', { name: /^general/ }).count()).toBe(1)

    const omar = await person(problems, sharedUrl, '/r/general', 'omar')
    await omar.signUp()
    await omar.join('made-by-omar')
    await omar.say('first words here')
    const fresh = roomGroup(lena, 'More rooms').getByRole('link', { name: /^made-by-omar/ })
    await eventually(() => fresh.count(), 5_000).toBe(1)
    expect(await roomGroup(lena, 'Your rooms').getByRole('link', { name: /^made-by-omar/ }).count()).toBe(0)
    problems.expectNone()
  })

  it('leaves a room for good from its header, on every tab, and goes to general', async () => {
    const problems = new PageProblems()
    const pia = await person(problems, sharedUrl, '/r/general', 'pia')
    await pia.signUp()
    await pia.join('to-leave')
    await pia.say('here for a moment')
    const otherTab = new Person(await problems.watch(await pia.page.context().newPage()), 'pia', pia.password)
    await otherTab.page.goto(`${sharedUrl}/r/general`)
    await eventually(() => roomGroup(otherTab, 'Your rooms').getByRole('link', { name: /^to-leave/ }).count()).toBe(1)

    await pia.page.getByRole('heading', { level: 2, name: 'to-leave' }).waitFor()
    await pia.page.getByRole('button', { name: 'Leave room' }).click()
    await pia.page.waitForURL('**/r/general')
    for (const tab of [pia, otherTab]) {
      await eventually(() => roomGroup(tab, 'More rooms').getByRole('link', { name: /^to-leave/ }).count()).toBe(1)
      expect(await roomGroup(tab, 'Your rooms').getByRole('link', { name: /^to-leave/ }).count()).toBe(0)
    }
    // The server forgot the membership: so does a fresh page.
    await pia.page.reload()
    await eventually(() => roomGroup(pia, 'More rooms').getByRole('link', { name: /^to-leave/ }).count()).toBe(1)
    expect(await roomGroup(pia, 'Your rooms').getByRole('link', { name: /^to-leave/ }).count()).toBe(0)
    problems.expectNone()
  })

  it('dims the Online list and says Reconnecting… beside its heading while the server is stopped', async () => {
    const problems = new PageProblems()
    const quin = await person(problems, ownUrl, '/r/outage', 'quin')
    const ruth = await person(problems, ownUrl, '/r/outage', 'ruth')
    await quin.signUp()
    await ruth.signUp()
    await eventually(() => quin.onlineNames()).toEqual(['quin', 'ruth'])
    const panel = quin.page.getByRole('complementary', { name: 'People in this room' })
    const listOpacity = () => quin.online.evaluate((element) => Number(getComputedStyle(element).opacity))
    expect(await panel.getByText('Reconnecting…').count()).toBe(0)
    expect(await listOpacity()).toBe(1)

    await problems.allowWhile(OUTAGE_NOISE, async () => {
      await stopPid(Number(readFileSync(pidFile(ownVarDir), 'utf8')))
      await eventually(() => panel.getByText('Reconnecting…').count()).toBe(1)
      // Still the list named Online, with who was there, dimmed.
      expect(await quin.onlineNames()).toEqual(['quin', 'ruth'])
      expect(await listOpacity()).toBeLessThan(1)
      await startDaphne(ownPort, ownVarDir, { CHAT_SEND_RATE: SEND_RATE })
      const reconnectNow = quin.page.getByRole('button', { name: 'Reconnect now' })
      if (await reconnectNow.isVisible()) await reconnectNow.click().catch(() => undefined)
      await eventually(() => panel.getByText('Reconnecting…').count(), 60_000).toBe(0)
    })
    expect(await listOpacity()).toBe(1)
    await eventually(() => quin.onlineNames(), 30_000).toEqual(['quin', 'ruth'])
    problems.expectNone()
  })

  it('on a phone: room groups, unread counts and the Room name field in sight, a skip link first', async () => {
    const problems = new PageProblems()
    const longName = 'a-room-with-a-very-long-name-that-goes-on-and-on-past-the-edge'
    const sam = await person(problems, sharedUrl, '/r/general', 'sami', PHONE)
    const tia = await person(problems, sharedUrl, '/r/general', 'tia')
    await sam.signUp()
    await tia.signUp()
    await tia.join('tias-corner') // a room sam has not joined
    await tia.join(longName)
    await sam.join(longName)
    await sam.rooms.getByRole('link', { name: /^general/ }).click()
    await sam.page.waitForURL('**/r/general')
    await tia.say('one for sam')
    await tia.say('two for sam')

    const longLink = roomGroup(sam, 'Your rooms').getByRole('link', { name: new RegExp(`^${longName}`) })
    await eventually(() => longLink.textContent()).toMatch(/2$/)
    await roomGroup(sam, 'More rooms').getByRole('link', { name: /^tias-corner/ }).waitFor()
    await sam.page.getByRole('heading', { name: 'Your rooms' }).waitFor()
    await sam.page.getByRole('heading', { name: 'More rooms' }).waitFor()
    const inViewport = async (box: { x: number; y: number; width: number; height: number } | null) => {
      expect(box).not.toBeNull()
      expect(box!.x).toBeGreaterThanOrEqual(0)
      expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width)
      expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height)
    }
    await inViewport(await longLink.getByText('2', { exact: true }).boundingBox())
    const roomField = sam.page.getByRole('textbox', { name: 'Room name' })
    await inViewport(await roomField.boundingBox())
    expect((await roomField.boundingBox())!.width).toBeGreaterThan(150)
    expect(await sam.page.locator('body').textContent()).not.toMatch(/on the left/i)
    await sam.page.screenshot({ path: join(process.cwd(), 'test-results', 'phone-shell.png') }).catch(() => undefined)

    // Skip to messages: the first stop of Tab, on a phone and on a wide screen.
    for (const who of [sam, tia]) {
      await who.page.reload()
      await who.log.waitFor()
      await who.page.keyboard.press('Tab')
      expect(await focusedName(who.page)).toBe('a:Skip to messages')
      await who.page.keyboard.press('Enter')
      expect(await focusedName(who.page)).toBe('log:Messages')
    }
    problems.expectNone()
  })
})
