// Reading a room: day separators, the New messages line, Jump to latest, and
// the log as a virtual list (few rows in the DOM, the reading position kept
// when older pages go in above).
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'
import { seedRoom, type SeedMessage } from './seed'

const port = inject('serverPort')
const varDir = inject('varDir')
const baseUrl = `http://127.0.0.1:${port}`

const browser = new TestBrowser()

beforeAll(() => browser.launch())

afterAll(() => browser.close())

const person = (problems: PageProblems, path: string, username: string) => browser.person(problems, baseUrl, path, username)

/** How many messages the log holds: its rows say so (aria-setsize), however few are rendered. */
async function held(who: Person): Promise<number> {
  return Number(await who.log.getByRole('listitem').first().getAttribute('aria-setsize'))
}

/** Local midnight today, in this machine's zone (the browser's too). */
function midnight(): Date {
  const now = new Date()
  return new Date(now.getFullYear(), now.getMonth(), now.getDate())
}

/** What the separator of a day more than a day ago says. */
function dateLabel(day: Date): string {
  return day.toLocaleDateString('en-US', {
    weekday: 'long', month: 'long', day: 'numeric', ...(day.getFullYear() !== new Date().getFullYear() ? { year: 'numeric' } : {}),
  })
}

const fromBottom = (page: Page) =>
  page.getByRole('log', { name: 'Messages' }).evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight)

describe('reading a room', () => {
  it('separates days, marks where the unread messages start until the room is left, and passes axe', async () => {
    const problems = new PageProblems()
    const pete = await person(problems, '/', 'pete')
    await pete.signUp()

    const start = midnight().getTime()
    const threeDaysAgo = new Date(start - 2 * 86_400_000 - 2 * 3_600_000) // 22:00, three calendar days back
    const messages: SeedMessage[] = [
      { author: 'olga', body: 'Three days ago, one', created_at: threeDaysAgo.toISOString() },
      { author: 'pete', body: 'Three days ago, two', created_at: new Date(threeDaysAgo.getTime() + 60_000).toISOString() },
      { author: 'olga', body: 'Yesterday, late', created_at: new Date(start - 3_600_000).toISOString() },
      { author: 'olga', body: 'Yesterday, later', created_at: new Date(start - 1_800_000).toISOString() },
      { author: 'pete', body: 'Yesterday, my answer', created_at: new Date(start - 60_000).toISOString() },
    ]
    // Today's: written a few seconds apart, the last ones moments ago.
    const now = Date.now()
    for (let n = 1; n <= 4; n++) {
      messages.push({ author: 'olga', body: `Today ${n}`, created_at: new Date(Math.max(start, now - (5 - n) * 1_000)).toISOString() })
    }
    // pete read up to "Yesterday, later" (seq 4); his own answer (5) is not unread; four of olga's are.
    seedRoom(varDir, { room: 'diary', messages, readers: { pete: 4 } })

    await pete.page.reload()
    const link = pete.rooms.getByRole('link', { name: /^diary/ })
    await eventually(() => link.textContent()).toMatch(/^#?diary 4$/)
    await link.click()
    await pete.page.waitForURL('**/r/diary')
    await eventually(() => pete.messagesExactly('Today 4').count()).toBe(1)

    // One separator above the first message of each day, in the reader's words.
    const separators = pete.log.locator('.day-separator')
    expect(await separators.allTextContents()).toEqual([dateLabel(threeDaysAgo), 'Yesterday', 'Today'])
    const firstOfEachDay = await pete.log.evaluate((log) =>
      [...log.querySelectorAll('.day-separator')].map((separator) => separator.closest('li')?.querySelector('.message-body')?.textContent),
    )
    expect(firstOfEachDay).toEqual(['Three days ago, one', 'Yesterday, late', 'Today 1'])
    // Every time shown carries its full date in its title.
    const title = await pete.messagesExactly('Three days ago, one').locator('time').getAttribute('title')
    expect(title).toContain(String(threeDaysAgo.getFullYear()))
    expect(title).toContain(threeDaysAgo.toLocaleDateString(undefined, { month: 'long' }))

    // The line sits above the first of the four unread messages.
    const line = pete.log.getByText('New messages', { exact: true })
    expect(await line.count()).toBe(1)
    expect(await pete.messagesWith('New messages').filter({ hasText: 'Today 1' }).count()).toBe(1)
    expect(await axeViolations(pete.page)).toEqual([])

    // New messages arriving meanwhile do not move it.
    const rosa = await person(problems, '/r/diary', 'rosa')
    await rosa.signUp()
    await rosa.say('Live while pete reads')
    await eventually(() => pete.messagesExactly('Live while pete reads').count()).toBe(1)
    await pete.say('My own, also live')
    await eventually(() => pete.log.getByText('Sending…').count()).toBe(0)
    expect(await line.count()).toBe(1)
    expect(await pete.messagesWith('New messages').filter({ hasText: 'Today 1' }).count()).toBe(1)

    // Leaving the room ends it: back in the room, everything was read.
    await pete.join('elsewhere')
    await pete.rooms.getByRole('link', { name: /^diary/ }).click()
    await pete.page.waitForURL('**/r/diary')
    await eventually(() => pete.messagesExactly('Today 4').count()).toBe(1)
    expect(await line.count()).toBe(0)
    problems.expectNone()
  })

  it('opens a room with more unread than a screen at the New messages line', async () => {
    const problems = new PageProblems()
    const yara = await person(problems, '/', 'yara')
    await yara.signUp()
    const now = Date.now()
    seedRoom(varDir, {
      room: 'backlog',
      messages: Array.from({ length: 45 }, (_, i) => ({
        author: 'olga', body: `Backlog ${i + 1}\nwith a second line\nand a third`, created_at: new Date(now - (45 - i) * 1_000).toISOString(),
      })),
      readers: { yara: 5 },
    })
    await yara.page.reload()
    const link = yara.rooms.getByRole('link', { name: /^backlog/ })
    await eventually(() => link.textContent()).toMatch(/^#?backlog 40$/)
    await link.click()
    const line = yara.log.getByText('New messages', { exact: true })
    await eventually(() => line.isVisible()).toBe(true)
    // The virtual list measures its rows as they render: the line lands on its row within a frame or two.
    await eventually(() => yara.messagesWith('New messages').filter({ hasText: 'Backlog 6' }).count()).toBe(1)
    await eventually(() => yara.messagesWith('Backlog 6').isVisible()).toBe(true)
    // The newest are more than a screen below, one click away.
    const jump = yara.page.getByRole('button', { name: /^Jump to latest/ })
    await jump.click()
    await eventually(() => yara.messagesWith('Backlog 45').isVisible()).toBe(true)
    await eventually(() => fromBottom(yara.page)).toBeLessThan(5)
    problems.expectNone()
  })

  it('draws the line on a page opened straight at the room, before the room list has arrived', async () => {
    const problems = new PageProblems()
    const sam = await person(problems, '/', 'samir')
    await sam.signUp()
    const now = Date.now()
    const messages: SeedMessage[] = Array.from({ length: 6 }, (_, i) => ({
      author: 'olga', body: `Straight ${i + 1}`, created_at: new Date(now - (6 - i) * 1_000).toISOString(),
    }))
    seedRoom(varDir, { room: 'straight', messages, readers: { samir: 4 } })
    await sam.page.goto(`${baseUrl}/r/straight`)
    await eventually(() => sam.messagesExactly('Straight 6').count()).toBe(1)
    await eventually(() => sam.messagesWith('New messages').filter({ hasText: 'Straight 5' }).count()).toBe(1)
    expect(await sam.log.getByText('New messages', { exact: true }).count()).toBe(1)
    problems.expectNone()
  })

  it('renders only the rows on screen, keeps the reading position on loading older pages, and jumps to the latest', async () => {
    const problems = new PageProblems()
    const now = Date.now()
    const messages: SeedMessage[] = Array.from({ length: 300 }, (_, i) => ({
      author: i % 2 ? 'olga' : 'tom',
      body: i % 7 === 0 ? `Long ${i + 1}\nwith a second line\nand a third` : `Long ${i + 1}`,
      created_at: new Date(now - (300 - i) * 2_000).toISOString(),
    }))
    seedRoom(varDir, { room: 'longroom', messages })
    const uma = await person(problems, '/r/longroom', 'uma')
    await uma.signUp()
    await eventually(() => uma.messagesExactly('Long 300').count()).toBe(1)
    expect(await held(uma)).toBe(50)
    // Virtual: the rows on screen and a few beyond, not all fifty.
    const rendered = await uma.log.getByRole('listitem').count()
    expect(rendered).toBeLessThan(50)
    expect(await fromBottom(uma.page)).toBeLessThan(5)

    // Scrolled to the top, the older page loads and the row read stays where it was on screen.
    const before = await uma.log.evaluate(async (log) => {
      log.scrollTo({ top: 80 })
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))
      const top = log.getBoundingClientRect().top
      const row = [...log.querySelectorAll('li[data-seq]')].find((li) => li.getBoundingClientRect().top >= top)!
      log.scrollTo({ top: 0 })
      return { seq: row.getAttribute('data-seq')!, y: row.getBoundingClientRect().top - top }
    })
    await eventually(() => held(uma)).toBe(100)
    await new Promise((resolve) => setTimeout(resolve, 300))
    const after = await uma.log.evaluate((log, seq) => {
      const row = log.querySelector(`li[data-seq="${seq}"]`)!
      return row.getBoundingClientRect().top - log.getBoundingClientRect().top
    }, before.seq)
    expect(Math.abs(after - before.y)).toBeLessThan(3)
    expect(await uma.log.evaluate((element) => element.scrollTop)).toBeGreaterThan(100)

    // Everything held, and still only a screenful of rows in the DOM.
    const older = uma.log.getByRole('button', { name: 'Load older messages' })
    while ((await older.count()) > 0) await older.click({ timeout: 5_000 }).catch(() => undefined)
    await eventually(() => held(uma)).toBe(300)
    expect(await uma.log.getByRole('listitem').count()).toBeLessThan(60)
    await uma.log.evaluate((element) => element.scrollTo({ top: 0 }))
    await eventually(() => uma.messagesExactly('Long 2').count()).toBe(1)
    expect(await uma.log.getByRole('listitem').count()).toBeLessThan(60)

    // More than a screen up, Jump to latest shows by itself; it counts what arrives meanwhile.
    const jump = uma.page.getByRole('button', { name: /^Jump to latest/ })
    await uma.log.evaluate((element) => element.scrollTo({ top: element.scrollHeight - 3 * element.clientHeight }))
    await jump.waitFor()
    expect(await jump.textContent()).toBe('Jump to latest')
    const scrolled = await uma.log.evaluate((element) => element.scrollTop)
    const vic = await person(problems, '/r/longroom', 'vic')
    await vic.signUp()
    await vic.say('First while uma reads back')
    await vic.say('Second while uma reads back')
    await eventually(() => jump.textContent()).toBe('Jump to latest, 2 new')
    expect(await uma.log.evaluate((element) => element.scrollTop)).toBe(scrolled)
    await jump.click()
    await eventually(() => fromBottom(uma.page)).toBeLessThan(5)
    await eventually(() => jump.count()).toBe(0)
    expect(await uma.messagesExactly('Second while uma reads back').count()).toBe(1)

    // At the bottom the log follows what arrives; one's own message is shown from anywhere.
    await vic.say('Third, followed')
    await eventually(() => uma.messagesExactly('Third, followed').count()).toBe(1)
    await eventually(() => fromBottom(uma.page)).toBeLessThan(5)
    await uma.log.evaluate((element) => element.scrollTo({ top: 0 }))
    await jump.waitFor()
    await uma.say('Mine, from the top')
    await eventually(() => uma.messagesExactly('Mine, from the top').count()).toBe(1)
    await eventually(() => fromBottom(uma.page)).toBeLessThan(5)
    await eventually(() => jump.count()).toBe(0)
    problems.expectNone()
  })

  it('shows every row of a room filling up from the bottom, and stays at the newest', async () => {
    const problems = new PageProblems()
    const xena = await person(problems, '/r/fillup', 'xena')
    await xena.signUp()
    await xena.log.waitFor()
    // Rows that first sit low under empty space, then fill the screen and overflow it.
    for (let n = 1; n <= 18; n++) await xena.say(`Fill ${n}`)
    await eventually(() => xena.log.getByText('Sending…').count()).toBe(0)
    await eventually(() => xena.messagesExactly('Fill 18').isVisible()).toBe(true)
    await eventually(() => fromBottom(xena.page)).toBeLessThan(5)
    expect(await held(xena)).toBe(18)
    expect(await xena.messagesExactly('Fill 10').count()).toBe(1)
    problems.expectNone()
  })

  it('keeps a focused row in the DOM when it scrolls far away', async () => {
    const problems = new PageProblems()
    const now = Date.now()
    seedRoom(varDir, {
      room: 'focusroom',
      messages: Array.from({ length: 120 }, (_, i) => ({
        author: 'olga', body: `Focus ${i + 1}`, created_at: new Date(now - (120 - i) * 2_000).toISOString(),
      })),
    })
    const walt = await person(problems, '/r/focusroom', 'walt')
    await walt.signUp()
    await eventually(() => walt.messagesExactly('Focus 120').count()).toBe(1)
    // A row's body is focusable for this check only; focus inside a row is what matters (Retry, later actions).
    const body = walt.messagesExactly('Focus 120').locator('.message-body')
    await body.evaluate((element) => ((element as HTMLElement).tabIndex = -1))
    await body.focus()
    expect(await walt.page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-seq'))).toBe('120')
    await walt.log.evaluate((element) => element.scrollTo({ top: 0 }))
    await eventually(() => held(walt)).toBe(100)
    await walt.log.evaluate((element) => element.scrollTo({ top: 0 }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await walt.page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-seq'))).toBe('120')
    problems.expectNone()
  })
})
