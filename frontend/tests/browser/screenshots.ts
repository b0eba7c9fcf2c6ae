// Two people chat a little; the light, dark and phone layouts are written to
// docs/screenshots/{light,dark,phone}.png. Run with `npm run screenshots`.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { BrowserContext } from 'playwright-core'
import { afterAll, expect, inject, it } from 'vitest'
import { PageProblems, Person, eventually, launchChromium } from './browser'
import { REPO_DIR } from './server'

const baseUrl = `http://127.0.0.1:${inject('serverPort')}`
const OUT = join(REPO_DIR, 'docs', 'screenshots')
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

const browser = await launchChromium()
const contexts: BrowserContext[] = []

async function open(problems: PageProblems, username: string, options: Parameters<typeof browser.newContext>[0] = {}) {
  const context = await browser.newContext({ viewport: DESKTOP, ...options })
  contexts.push(context)
  return Person.open(context, problems, baseUrl, '/r/general', username)
}

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined)
  await browser.close()
})

it('takes the light, dark and phone screenshots', async () => {
  const problems = new PageProblems()
  const alice = await open(problems, 'alice')
  const bob = await open(problems, 'bob')
  await alice.signUp()
  await bob.signUp()
  await alice.join('design')
  await alice.join('general')
  const conversation: [Person, string][] = [
    [alice, 'Morning! Did the deploy go out last night?'],
    [bob, 'It did, at 23:10. No errors so far, and the queue drained in a few minutes.'],
    [alice, 'Great. @bob can you post the release notes here when you have a moment?'],
    [bob, 'Sure, on it. I will add the two fixes from yesterday too, the `since` one first.'],
  ]
  const said = async (person: Person, body: string) => {
    const other = person === alice ? bob : alice
    await eventually(() => other.messagesWith(body.replaceAll('`', '')).count()).toBe(1)
  }
  for (const [person, body] of conversation) {
    await person.say(body)
    await said(person, body)
  }
  // A reply and a reaction, as the app shows them.
  const first = alice.messagesWith('Did the deploy go out')
  await first.hover()
  await first.getByRole('button', { name: 'Reply', exact: true }).click()
  await alice.say('Thanks!')
  await said(alice, 'Thanks!')
  const notes = bob.messagesWith('the two fixes')
  await notes.hover()
  await notes.getByRole('button', { name: 'React', exact: true }).click()
  await bob.page.getByRole('dialog', { name: 'Add reaction' }).getByRole('button', { name: '🎉', exact: true }).click()
  await eventually(() => alice.messagesWith('the two fixes').getByRole('group', { name: 'Reactions' }).count()).toBe(1)
  // A direct message waiting, unread, in alice's list.
  await bob.online.getByRole('button', { name: 'Message alice' }).click()
  await bob.page.waitForURL(/\/r\/dm-\d+-\d+$/)
  await bob.say('The notes are in the wiki.')
  await eventually(() => alice.rooms.getByRole('link', { name: 'bob 1', exact: true }).count()).toBe(1)
  await eventually(() => alice.log.getByText('Sending…').count()).toBe(0)
  await eventually(() => alice.onlineNames()).toEqual(['alice', 'bob'])
  mkdirSync(OUT, { recursive: true })
  await alice.page.mouse.move(0, 0)
  await alice.page.screenshot({ path: join(OUT, 'light.png') })

  const storageState = await alice.page.context().storageState()
  for (const [name, options] of [
    ['dark', { colorScheme: 'dark' as const, storageState }],
    ['phone', { viewport: PHONE, storageState }],
  ] as const) {
    const context = await browser.newContext({ viewport: DESKTOP, ...options })
    contexts.push(context)
    const viewer = new Person(await problems.watch(await context.newPage()), 'alice', '')
    await viewer.page.goto(`${baseUrl}/r/general`)
    await eventually(() => viewer.messagesWith('Thanks!').count()).toBe(1)
    await eventually(() => viewer.onlineNames()).toEqual(['alice', 'bob'])
    await viewer.page.screenshot({ path: join(OUT, `${name}.png`) })
  }
  expect(problems.problems).toEqual([])
})
