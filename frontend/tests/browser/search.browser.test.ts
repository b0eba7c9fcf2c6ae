// Search in the browser: the `search` landmark, its results (room, author,
// time, body), and choosing an old result: the room opens at that message,
// highlighted and focused, detached from the live end; scrolling down loads
// newer pages until the log is live again, with what came meanwhile joined on
// in order. Also `from:`, a dm's title in results, Escape, a phone and axe.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'
import { seedRoom, type SeedMessage } from './seed'

const port = inject('serverPort')
const varDir = inject('varDir')
const baseUrl = `http://127.0.0.1:${port}`
const suffix = Math.random().toString(36).slice(2, 7)
const ROOM = `srch-${suffix}`
const MESSAGES = 300
/** The one old message with the word, and the one recent message with it. */
const OLD = 20
const RECENT = 290
// Ends in a letter the stemmers leave alone: a random part ending in "s" made
// the plural `${WORD}s` stem to "…ss", which a search for the word never matched.
const WORD = `zebracorn${suffix}x`

const browser = new TestBrowser()
const problems = new PageProblems()
let alice: Person
let bob: Person

function seeded(now: number): SeedMessage[] {
  return Array.from({ length: MESSAGES }, (_, i) => {
    const seq = i + 1
    const body = seq === OLD || seq === RECENT ? `Message ${seq}: the ${WORD}s migration is connected` : `Message ${seq}: nothing to see`
    return { author: `srchcarol${suffix}`, body, created_at: new Date(now - (MESSAGES - i) * 60_000).toISOString() }
  })
}

beforeAll(async () => {
  await browser.launch()
  alice = await browser.person(problems, baseUrl, '/r/general', `srchalice${suffix}`)
  bob = await browser.person(problems, baseUrl, `/r/${ROOM}`, `srchbob${suffix}`)
  await alice.signUp()
  await bob.signUp()
  seedRoom(varDir, { room: ROOM, messages: seeded(Date.now()) })
})

afterAll(() => browser.close())

const searchField = (person: Person) => person.page.getByRole('search').getByRole('searchbox', { name: 'Search messages' })
const results = (person: Person) => person.page.getByRole('list', { name: 'Search results' }).getByRole('listitem')

async function search(person: Person, query: string) {
  await searchField(person).fill(query)
  await searchField(person).press('Enter')
}

/** The log's rendered message rows (a virtual list: those near the screen, and the focused one), ascending. */
function rowsShown(person: Person): Promise<{ seq: number; index: number }[]> {
  return person.log.evaluate((log) =>
    [...log.querySelectorAll<HTMLElement>('[data-seq]')]
      .map((row) => ({ seq: Number(row.dataset.seq), index: Number(row.dataset.index) }))
      .sort((a, b) => a.seq - b.seq),
  )
}

async function seqsShown(person: Person): Promise<number[]> {
  return (await rowsShown(person)).map((row) => row.seq)
}

describe('search', () => {
  it('finds messages by a word, newest first, each with room, author, time and body', async () => {
    await search(alice, WORD.toUpperCase())
    await eventually(() => results(alice).count()).toBe(2)
    const first = results(alice).first()
    expect(await first.textContent()).toContain(`Message ${RECENT}:`)
    expect(await results(alice).nth(1).textContent()).toContain(`Message ${OLD}:`)
    for (const part of [`#${ROOM}`, `srchcarol${suffix}`]) expect(await first.textContent()).toContain(part)
    const time = first.locator('time')
    expect(await time.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(await time.getAttribute('title')).toMatch(/\d{4}/)
    // The matched word is marked in the body.
    expect(await first.locator('mark').first().textContent()).toBe(`${WORD}s`)
    problems.expectNone()
  })

  it('a word stemmed differently still matches, and Escape closes the results', async () => {
    await search(alice, 'connecting')
    await eventually(() => results(alice).count()).toBeGreaterThanOrEqual(2)
    await searchField(alice).press('Escape')
    await eventually(() => alice.page.getByRole('list', { name: 'Search results' }).count()).toBe(0)
  })

  it('choosing an old result opens its room at that message, highlighted and focused, detached from the live end', async () => {
    await search(alice, WORD)
    await eventually(() => results(alice).count()).toBe(2)
    await results(alice).nth(1).getByRole('button').click()
    await alice.page.waitForURL(`**/r/${ROOM}?m=${OLD}`)
    const target = alice.messagesWith(`Message ${OLD}:`)
    await eventually(() => target.count()).toBe(1)
    await eventually(() => target.locator('.message').getAttribute('class')).toContain('highlighted')
    await eventually(() => alice.page.evaluate(() => document.activeElement?.closest('[data-seq]')?.getAttribute('data-seq'))).toBe(String(OLD))
    await expect.poll(() => target.isVisible()).toBe(true)
    // The results closed; the newest messages are not in the log.
    expect(await alice.page.getByRole('list', { name: 'Search results' }).count()).toBe(0)
    expect(Math.max(...(await seqsShown(alice)))).toBeLessThan(MESSAGES)
    expect(await alice.page.getByRole('button', { name: /^Jump to latest/ }).isVisible()).toBe(true)
    // The highlight lasts a moment.
    await eventually(() => target.locator('.message').getAttribute('class'), 6_000).not.toContain('highlighted')
    problems.expectNone()
  })

  it('scrolling down loads newer pages until the live end; a message sent meanwhile joins on in order', async () => {
    // bob writes while alice's log is detached: it must not be lost nor shown before the older ones.
    await bob.log.waitFor()
    await bob.say(`live while away ${suffix}`)
    await bob.messagesWith(`live while away ${suffix}`).waitFor()
    await bob.log.getByText('Sending…').first().waitFor({ state: 'hidden' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await alice.messagesWith(`live while away ${suffix}`).count()).toBe(0)
    // Scroll to the bottom of the slice, again and again, until the newest is there.
    await eventually(async () => {
      await alice.log.evaluate((log) => log.scrollTo({ top: log.scrollHeight }))
      return alice.messagesWith(`live while away ${suffix}`).count()
    }, 30_000).toBe(1)
    await eventually(() => alice.page.getByRole('button', { name: 'Load newer messages' }).count()).toBe(0)
    const shown = await rowsShown(alice)
    // In order and without holes: between any two rows, as many rows as seqs; the live message last.
    for (const row of shown) expect(row.index - shown[0]!.index).toBe(row.seq - shown[0]!.seq)
    expect(shown.at(-1)!.seq).toBe(MESSAGES + 1)
    // Live again: a new message appears at once.
    await bob.say(`live after ${suffix}`)
    await eventually(() => alice.messagesWith(`live after ${suffix}`).count()).toBe(1)
    problems.expectNone()
  })

  it('a reload keeps the spot: /r/<room>?m=<seq> opens the room at that message', async () => {
    await alice.page.goto(`${baseUrl}/r/${ROOM}?m=${OLD + 5}`)
    await eventually(() => alice.messagesWith(`Message ${OLD + 5}:`).count()).toBe(1)
    await eventually(() => alice.messagesWith(`Message ${OLD + 5}:`).locator('.message').getAttribute('class')).toContain('highlighted')
    expect(Math.max(...(await seqsShown(alice)))).toBeLessThan(MESSAGES)
  })

  it('Jump to latest goes back to the live end from a slice', async () => {
    await alice.page.getByRole('button', { name: /^Jump to latest/ }).click()
    await eventually(() => alice.messagesWith(`live after ${suffix}`).count()).toBe(1)
    await alice.page.waitForURL(`**/r/${ROOM}`)
    expect(await alice.page.getByRole('button', { name: 'Load newer messages' }).count()).toBe(0)
    problems.expectNone()
  })

  it('a room left as a slice is read at its live end when opened again from the Rooms list', async () => {
    await alice.page.goto(`${baseUrl}/r/${ROOM}?m=${OLD + 5}`)
    await eventually(() => alice.messagesWith(`Message ${OLD + 5}:`).count()).toBe(1)
    await alice.rooms.getByRole('link', { name: /^general/ }).click()
    await alice.page.waitForURL('**/r/general')
    await alice.rooms.getByRole('link', { name: new RegExp(`^${ROOM}`) }).click()
    await alice.page.waitForURL(`**/r/${ROOM}`)
    await eventually(() => alice.messagesWith(`live after ${suffix}`).count()).toBe(1)
    expect(await alice.page.getByRole('button', { name: 'Load newer messages' }).count()).toBe(0)
    problems.expectNone()
  })

  it('from: narrows to one author; a dm result is named by its members', async () => {
    await alice.page.getByRole('button', { name: 'New direct message' }).click()
    const dialog = alice.page.getByRole('dialog', { name: 'New direct message' })
    await dialog.getByRole('textbox', { name: 'People' }).fill(`srchbob${suffix}`)
    await dialog.getByRole('button', { name: 'Start' }).click()
    await alice.page.getByRole('heading', { level: 2, name: `srchbob${suffix}` }).waitFor()
    await alice.say(`pineapple ${suffix} in private`)
    await alice.log.getByText('Sending…').first().waitFor({ state: 'hidden' })
    await search(alice, `pineapple ${suffix}`)
    await eventually(() => results(alice).count()).toBe(1)
    const text = await results(alice).first().textContent()
    expect(text).toContain(`srchbob${suffix}`)
    expect(text).not.toContain('#dm')
    await search(alice, `from:srchbob${suffix}`)
    await eventually(() => results(alice).count()).toBe(2)
    for (const item of await results(alice).all()) expect(await item.textContent()).toContain(`srchbob${suffix}`)
    expect(await results(alice).first().textContent()).toContain(`live after ${suffix}`)
    await search(alice, `from:srchcarol${suffix} ${WORD}`)
    await eventually(() => results(alice).count()).toBe(2)
    problems.expectNone()
  })

  it('a query with no word says so; pages of results load with Load more results', async () => {
    await search(alice, '!!')
    await eventually(() => alice.page.getByRole('search').getByRole('status').textContent()).toBe('Type a word to search for.')
    await search(alice, `nothing from:srchcarol${suffix}`)
    await eventually(() => results(alice).count()).toBe(20)
    await alice.page.getByRole('button', { name: 'Load more results' }).click()
    await eventually(() => results(alice).count()).toBe(40)
  })

  it('works on a phone, with no axe violation while results show', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await alice.page.context().storageState() })
    const page = await problems.watch(await context.newPage())
    const phone = new Person(page, alice.username, '')
    await page.goto(`${baseUrl}/r/${ROOM}`)
    await phone.log.waitFor()
    const field = searchField(phone)
    const box = await field.boundingBox()
    expect(box!.width).toBeGreaterThan(120)
    expect(box!.x + box!.width).toBeLessThanOrEqual(390)
    await search(phone, WORD)
    await eventually(() => results(phone).count()).toBe(2)
    const item = await results(phone).first().boundingBox()
    expect(item!.x).toBeGreaterThanOrEqual(0)
    expect(item!.x + item!.width).toBeLessThanOrEqual(390)
    expect(await axeViolations(page)).toEqual([])
    await results(phone).nth(1).getByRole('button').click()
    await eventually(() => phone.messagesWith(`Message ${OLD}:`).count()).toBe(1)
    expect(await axeViolations(page)).toEqual([])
    problems.expectNone()
  })
})
