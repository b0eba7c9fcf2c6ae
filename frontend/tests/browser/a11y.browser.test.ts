// axe-core on the pages a person meets: the sign-in form and a room with
// messages from two people, in the light and the dark theme (the app follows
// prefers-color-scheme), on a desktop screen and on a phone (390×844).
import type { BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'

const baseUrl = `http://127.0.0.1:${inject('serverPort')}`
const SCREENS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } }
const THEMES = ['light', 'dark'] as const
const suffix = Math.random().toString(36).slice(2, 7)
const room = `a11y-${suffix}`

const browser = new TestBrowser()
let signedIn: Awaited<ReturnType<BrowserContext['storageState']>>

const context = (theme: (typeof THEMES)[number], screen: keyof typeof SCREENS, storageState?: typeof signedIn) =>
  browser.newContext({ colorScheme: theme, viewport: SCREENS[screen], storageState })

beforeAll(async () => {
  await browser.launch()
  // Two people and a few messages, one of them long, one of them a reply in kind.
  const problems = new PageProblems()
  const ana = await Person.open(await context('light', 'desktop'), problems, baseUrl, `/r/${room}`, `ana${suffix}`)
  const ben = await Person.open(await context('light', 'desktop'), problems, baseUrl, `/r/${room}`, `ben${suffix}`)
  await ana.signUp()
  await ben.signUp()
  await ana.say('Morning! Is the release still on for today?')
  // (Playwright's own waits here: vitest's expect.poll only runs inside a test.)
  await ben.messagesWith('release still on').waitFor()
  await ben.say('Yes, at four. I will post the notes here once it is out, with the list of fixes and the known issues.')
  await ana.say('Great, thanks.')
  await ana.messagesWith('known issues').waitFor()
  await ana.log.getByText('Sending…').first().waitFor({ state: 'hidden' })
  signedIn = await ana.page.context().storageState()
  problems.expectNone()
  // ben stays connected, so the Online list holds two people.
})

afterAll(() => browser.close())

describe.each(THEMES)('accessibility, %s theme', (theme) => {
  it.each(Object.keys(SCREENS) as (keyof typeof SCREENS)[])('sign-in page on a %s: no axe violation', async (screen) => {
    const problems = new PageProblems()
    const page = await problems.watch(await (await context(theme, screen)).newPage())
    await page.goto(`${baseUrl}/`)
    await page.getByRole('button', { name: 'Sign up' }).waitFor()
    expect(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(theme === 'dark')
    expect(await axeViolations(page)).toEqual([])
    // With the form's alert showing too.
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('alert').waitFor()
    expect(await axeViolations(page)).toEqual([])
    problems.expectNone()
  })

  it.each(Object.keys(SCREENS) as (keyof typeof SCREENS)[])('room with messages on a %s: no axe violation', async (screen) => {
    const problems = new PageProblems()
    const page = await problems.watch(await (await context(theme, screen, signedIn)).newPage())
    const ana = new Person(page, `ana${suffix}`, '')
    await page.goto(`${baseUrl}/r/${room}`)
    await eventually(() => ana.messagesWith('known issues').count()).toBe(1)
    await eventually(() => ana.onlineNames()).toEqual([`ana${suffix}`, `ben${suffix}`].sort())
    expect(await axeViolations(page)).toEqual([])
    problems.expectNone()
  })
})

describe('axe under the Content-Security-Policy', () => {
  it('runs in the page and reports what it finds', async () => {
    const problems = new PageProblems()
    const page = await problems.watch(await (await context('light', 'desktop')).newPage())
    await page.goto(`${baseUrl}/`)
    await page.getByRole('button', { name: 'Sign up' }).waitFor()
    // Two planted faults (through the DOM: the policy would refuse an inline style attribute in markup).
    await page.evaluate(() => {
      const faint = document.createElement('p')
      faint.textContent = 'barely readable'
      faint.style.color = '#eeeeee'
      faint.style.background = '#ffffff'
      const unnamed = document.createElement('button')
      document.querySelector('main')?.append(faint, unnamed)
    })
    const found = await axeViolations(page)
    expect(found.some((line) => line.startsWith('color-contrast:'))).toBe(true)
    expect(found.some((line) => line.startsWith('button-name:'))).toBe(true)
    problems.expectNone()
  })
})
