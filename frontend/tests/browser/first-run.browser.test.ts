// What a new person meets first: an empty sign-in form says what is missing,
// before any request; avatars of people who signed up one after the other
// differ in colour, in both themes; the bundle arrives compressed.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { PageProblems, Person, TestBrowser, eventually } from './browser'

const baseUrl = `http://127.0.0.1:${inject('serverPort')}`
const suffix = Math.random().toString(36).slice(2, 7)

const browser = new TestBrowser()

const context = (colorScheme: 'light' | 'dark' = 'light') => browser.newContext({ colorScheme })

/** Every request the page makes to /api/ with a body (log in, sign up). */
function apiPosts(page: Page): string[] {
  const seen: string[] = []
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname.startsWith('/api/')) seen.push(request.url())
  })
  return seen
}

beforeAll(() => browser.launch())

afterAll(() => browser.close())

describe('the sign-in form', () => {
  it.each(['Log in', 'Sign up'])('names the empty field on %s, before any request', async (button) => {
    const problems = new PageProblems()
    const page = await problems.watch(await (await context()).newPage())
    const posts = apiPosts(page)
    await page.goto(`${baseUrl}/`)
    const username = page.getByLabel('Username', { exact: true })
    const password = page.getByLabel('Password', { exact: true })
    const alert = page.getByRole('alert')

    await page.getByRole('button', { name: button }).click()
    await eventually(async () => (await alert.textContent())?.trim()).toBe('Enter your username and password.')
    expect(await username.getAttribute('aria-invalid')).toBe('true')
    expect(await password.getAttribute('aria-invalid')).toBe('true')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('username')

    await username.fill('someone')
    await page.getByRole('button', { name: button }).click()
    await eventually(async () => (await alert.textContent())?.trim()).toBe('Enter your password.')
    expect(await username.getAttribute('aria-invalid')).toBeNull()
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('password')

    await username.fill('   ')
    await password.fill('a password')
    await page.getByRole('button', { name: button }).click()
    await eventually(async () => (await alert.textContent())?.trim()).toBe('Enter your username.')
    expect(await alert.textContent()).not.toContain('Wrong username or password')
    expect(posts).toEqual([])
    problems.expectNone()
  })
})

describe('avatars', () => {
  it('differ in colour for people who signed up one after the other, in both themes', async () => {
    const problems = new PageProblems()
    const room = `faces-${suffix}`
    const names = ['ida', 'jon', 'kay'].map((name) => `${name}${suffix}`)
    const people: Person[] = []
    for (const name of names) {
      const person = await Person.open(await context(), problems, baseUrl, `/r/${room}`, name)
      await person.signUp()
      people.push(person)
    }
    const expected = [...names].sort()
    await eventually(() => people[0]!.onlineNames()).toEqual(expected)
    const storageState = await people[0]!.page.context().storageState()

    for (const theme of ['light', 'dark'] as const) {
      const themed = await browser.newContext({ colorScheme: theme, storageState })
      const viewer = new Person(await problems.watch(await themed.newPage()), names[0]!, '')
      await viewer.page.goto(`${baseUrl}/r/${room}`)
      await eventually(() => viewer.onlineNames()).toEqual(expected)
      const colours = await viewer.online.locator('.avatar').evaluateAll((avatars) =>
        avatars.map((avatar) => {
          const style = getComputedStyle(avatar)
          return { background: style.backgroundColor, letter: style.color }
        }),
      )
      expect(colours).toHaveLength(3)
      // Three ids in a row: three different backgrounds.
      expect(new Set(colours.map((colour) => colour.background)).size).toBe(3)
      // The letter is white on the light theme's deep shades, near-black on the dark theme's pale ones.
      for (const colour of colours) expect(colour.letter).toBe(theme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(16, 18, 26)')
    }
    problems.expectNone()
  })
})

describe('the bundle', () => {
  it('reaches the browser Brotli-compressed and cached for good', async () => {
    const problems = new PageProblems()
    const page = await problems.watch(await (await context()).newPage())
    const scripts: { encoding?: string; cache?: string }[] = []
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'script') return
      const headers = response.headers()
      scripts.push({ encoding: headers['content-encoding'], cache: headers['cache-control'] })
    })
    await page.goto(`${baseUrl}/`)
    await page.getByRole('button', { name: 'Sign up' }).waitFor()
    expect(scripts).toEqual([{ encoding: 'br', cache: 'max-age=315360000, public, immutable' }])
    problems.expectNone()
  })
})
