// The life of a message in real Chromium against a real Daphne: two people
// edit, delete, react, reply and mention each other, one of them offline for
// part of it, and both end with the server's state.
import type { Page, WebSocketRoute } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'
import { seedRoom } from './seed'

const port = inject('serverPort')
const varDir = inject('varDir')
const baseUrl = `http://127.0.0.1:${port}`

/** What Chromium logs while a tab's socket is cut. */
const OUTAGE_NOISE = [/WebSocket/, /ERR_/, /Failed to load resource/]

const browser = new TestBrowser()

beforeAll(() => browser.launch())

afterAll(() => browser.close())

/** A tab whose socket the test can cut: while unplugged every socket it opens is closed at once. */
class Plug {
  private unplugged = false
  private readonly routes: WebSocketRoute[] = []

  async install(page: Page): Promise<void> {
    await page.routeWebSocket(/\/ws\/$/, (ws) => {
      if (this.unplugged) {
        void ws.close({ code: 4000, reason: 'offline' })
        return
      }
      ws.connectToServer()
      this.routes.push(ws)
    })
  }

  async unplug(): Promise<void> {
    this.unplugged = true
    for (const ws of this.routes.splice(0)) await ws.close({ code: 4000, reason: 'offline' })
  }

  plugIn(): void {
    this.unplugged = false
  }
}

const person = (problems: PageProblems, path: string, username: string, plug?: Plug) =>
  browser.person(problems, baseUrl, path, username, { signUp: true, beforeLoad: plug ? (page) => plug.install(page) : undefined })

const exactly = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)

/** The message whose body text is exactly `body` (a reply's quote of it does not count). */
const message = (who: Person, body: string) =>
  who.log.getByRole('listitem').filter({ has: who.page.locator('.message-text').filter({ hasText: exactly(body) }) })
const button = (who: Person, body: string, name: string) => message(who, body).getByRole('button', { name, exact: true })

async function react(who: Person, body: string, emoji: string): Promise<void> {
  await message(who, body).hover()
  await button(who, body, 'React').click()
  const picker = who.page.getByRole('dialog', { name: 'Add reaction' })
  await picker.getByRole('button', { name: emoji, exact: true }).click()
  await picker.waitFor({ state: 'detached' })
}

async function edit(who: Person, body: string, next: string): Promise<void> {
  await message(who, body).hover()
  await button(who, body, 'Edit').click()
  const field = who.log.getByRole('textbox', { name: 'Edit message' })
  await field.fill(next)
  await field.press('Enter')
  await field.waitFor({ state: 'detached' })
}

async function remove(who: Person, body: string): Promise<void> {
  await message(who, body).hover()
  await button(who, body, 'Delete').click()
  const dialog = who.page.getByRole('dialog', { name: 'Delete message' })
  await dialog.getByRole('button', { name: 'Delete', exact: true }).click()
  await dialog.waitFor({ state: 'detached' })
}

const pressed = (who: Person, body: string, name: string) => button(who, body, name).getAttribute('aria-pressed')

describe('the life of a message', () => {
  it('two people edit, delete, react, reply and mention each other, one of them offline for part of it', async () => {
    const problems = new PageProblems()
    const plug = new Plug()
    const lumi = await person(problems, '/r/lifecycle', 'lumi')
    const odo = await person(problems, '/r/lifecycle', 'odo', plug)
    await eventually(() => lumi.onlineNames()).toEqual(['lumi', 'odo'])

    // Formatting: the subset renders, HTML stays text, links open in a new tab.
    await odo.say('Hi lumi, a **bold** plan: see https://example.com/plan')
    const formatted = lumi.messagesWith('a bold plan')
    await formatted.waitFor()
    expect(await formatted.locator('strong').textContent()).toBe('bold')
    const link = formatted.getByRole('link', { name: 'https://example.com/plan' })
    expect(await link.getAttribute('target')).toBe('_blank')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer')
    await odo.say('<img src=x onerror=alert(1)>')
    await message(lumi, '<img src=x onerror=alert(1)>').waitFor()
    expect(await lumi.log.locator('img').count()).toBe(0)

    // A reply with a mention, picked from the suggestions by keyboard; odo reads another room meanwhile.
    await odo.say('Shall we ship on Friday?')
    await message(lumi, 'Shall we ship on Friday?').waitFor()
    await odo.join('elsewhere')
    await message(lumi, 'Shall we ship on Friday?').hover()
    await button(lumi, 'Shall we ship on Friday?', 'Reply').click()
    await lumi.page.getByText('Replying to odo').waitFor()
    await lumi.composer.pressSequentially('@od')
    const suggestions = lumi.page.getByRole('listbox', { name: 'Mention suggestions' })
    await suggestions.getByRole('option', { name: '@odo' }).waitFor()
    expect(await axeViolations(lumi.page)).toEqual([])
    await lumi.composer.press('Enter')
    expect(await lumi.composer.inputValue()).toBe('@odo ')
    await lumi.composer.pressSequentially('yes, Friday')
    await lumi.composer.press('Enter')
    await message(lumi, '@odo yes, Friday').waitFor()
    expect(await lumi.page.getByText('Replying to odo').count()).toBe(0)
    await eventually(() => odo.rooms.getByRole('link', { name: /^lifecycle \d+ @1$/ }).count()).toBe(1)

    await odo.rooms.getByRole('link', { name: /^lifecycle/ }).click()
    const reply = message(odo, '@odo yes, Friday')
    await reply.waitFor()
    expect(await reply.getByText('Mentions you').count()).toBe(1)
    expect(await reply.getByRole('button', { name: /odo\s+Shall we ship on Friday\?/ }).count()).toBe(1)
    await eventually(() => odo.rooms.getByRole('link', { name: /^lifecycle/ }).textContent()).not.toContain('@')

    // Reactions: added from the picker, counted, pressed for whoever reacted, toggled by pressing.
    await react(odo, '@odo yes, Friday', '👍')
    await eventually(() => pressed(lumi, '@odo yes, Friday', '👍 1')).toBe('false')
    expect(await pressed(odo, '@odo yes, Friday', '👍 1')).toBe('true')
    await button(lumi, '@odo yes, Friday', '👍 1').click()
    await eventually(() => pressed(odo, '@odo yes, Friday', '👍 2')).toBe('true')
    expect(await pressed(lumi, '@odo yes, Friday', '👍 2')).toBe('true')

    // Editing: Escape cancels, Enter saves, both see (edited); no Edit on another's message.
    await message(lumi, '@odo yes, Friday').hover()
    await button(lumi, '@odo yes, Friday', 'Edit').click()
    await lumi.log.getByRole('textbox', { name: 'Edit message' }).press('Escape')
    expect(await message(lumi, '@odo yes, Friday').count()).toBe(1)
    await eventually(() => button(lumi, '@odo yes, Friday', 'Edit').evaluate((element) => element === document.activeElement)).toBe(true)
    expect(await button(lumi, 'Shall we ship on Friday?', 'Edit').count()).toBe(0)
    await edit(lumi, '@odo yes, Friday', '@odo yes, Friday at noon')
    await eventually(() => message(odo, '@odo yes, Friday at noon').textContent()).toContain('(edited)')
    expect(await message(lumi, '@odo yes, Friday at noon').textContent()).toContain('(edited)')

    // The dialogs and the actions pass axe.
    await message(lumi, 'Shall we ship on Friday?').hover()
    await button(lumi, 'Shall we ship on Friday?', 'React').focus()
    expect(await axeViolations(lumi.page)).toEqual([])
    await button(lumi, 'Shall we ship on Friday?', 'React').click()
    await lumi.page.getByRole('dialog', { name: 'Add reaction' }).waitFor()
    expect(await axeViolations(lumi.page)).toEqual([])
    await lumi.page.keyboard.press('Escape')
    await lumi.page.getByRole('dialog', { name: 'Add reaction' }).waitFor({ state: 'detached' })

    // odo goes offline; each side changes things meanwhile.
    await lumi.say('A message to delete')
    await message(odo, 'A message to delete').waitFor()
    await odo.say('Typo in thsi one')
    await message(lumi, 'Typo in thsi one').waitFor()
    // Delete asks first; Escape keeps the message.
    await message(lumi, 'A message to delete').hover()
    await button(lumi, 'A message to delete', 'Delete').click()
    await lumi.page.getByRole('dialog', { name: 'Delete message' }).waitFor()
    expect(await axeViolations(lumi.page)).toEqual([])
    await lumi.page.keyboard.press('Escape')
    await lumi.page.getByRole('dialog', { name: 'Delete message' }).waitFor({ state: 'detached' })
    expect(await message(lumi, 'A message to delete').count()).toBe(1)
    await problems.allowWhile(OUTAGE_NOISE, async () => {
      await plug.unplug()
      await eventually(() => odo.connection.textContent()).toMatch(/Reconnecting…/)

      await remove(lumi, 'A message to delete')
      await edit(lumi, '@odo yes, Friday at noon', '@odo Friday at noon, final')
      await react(lumi, 'Typo in thsi one', '👀')
      await lumi.say('Written while odo was away')
      await eventually(() => message(lumi, 'A message to delete').count()).toBe(0)

      // What odo does offline shows at once and waits to be sent.
      await edit(odo, 'Typo in thsi one', 'No typo in this one')
      await react(odo, 'Shall we ship on Friday?', '🎉')
      await eventually(() => message(odo, 'No typo in this one').textContent()).toContain('Saving…')
      expect(await pressed(odo, 'Shall we ship on Friday?', '🎉 1')).toBe('true')
      expect(await message(odo, 'Written while odo was away').count()).toBe(0)

      plug.plugIn()
      const reconnectNow = odo.page.getByRole('button', { name: 'Reconnect now' })
      if (await reconnectNow.isVisible()) await reconnectNow.click().catch(() => undefined)
      await eventually(() => odo.connection.textContent(), 30_000).toBe('')
    })

    // odo caught up with every change, and his went out exactly once.
    await message(odo, 'Written while odo was away').waitFor()
    await eventually(() => odo.log.getByText('This message was deleted').count()).toBe(1)
    await message(odo, '@odo Friday at noon, final').waitFor()
    await eventually(() => pressed(odo, 'No typo in this one', '👀 1')).toBe('false')
    await eventually(() => message(odo, 'No typo in this one').textContent()).not.toContain('Saving…')
    await eventually(() => message(lumi, 'No typo in this one').textContent()).toContain('(edited)')
    await eventually(() => pressed(lumi, 'Shall we ship on Friday?', '🎉 1')).toBe('false')

    // Both tabs show what a fresh load shows: the server's state (author, body, reactions of every message).
    const shown = (who: Person) =>
      who.log.evaluate((log) =>
        [...log.querySelectorAll('li')].map((row) => [
          row.querySelector('.message-author')?.textContent,
          row.querySelector('.message-body')?.textContent,
          [...row.querySelectorAll('.reaction')].map((reaction) => reaction.textContent).join(' '),
        ].join(' | ')),
      )
    const before = await shown(odo)
    expect(before).toHaveLength(7)
    await odo.page.reload()
    await message(odo, 'Written while odo was away').waitFor()
    await eventually(() => shown(odo)).toEqual(before)
    await eventually(() => shown(lumi)).toEqual(before)
    problems.expectNone()
  })

  it('a reply’s quote leads to the original, loading older pages for it and highlighting it', async () => {
    const problems = new PageProblems()
    const pim = await person(problems, '/r/quotes', 'pim')
    await pim.say('The original question')
    await message(pim, 'The original question').waitFor()
    const filler = Array.from({ length: 120 }, (_, i) => ({
      author: 'quincy', body: `filler ${i + 1}`, created_at: new Date(Date.now() - 60_000 + i).toISOString(),
    }))
    seedRoom(varDir, { room: 'quotes', messages: filler })
    await message(pim, 'The original question').hover()
    await button(pim, 'The original question', 'Reply').click()
    await pim.say('The answer, much later')
    // Her client fills the 120 messages it never got below her own, and she stays at the newest.
    await message(pim, 'The answer, much later').waitFor()

    const roz = await person(problems, '/r/quotes', 'roz')
    const answer = message(roz, 'The answer, much later')
    await answer.waitFor()
    expect(await message(roz, 'The original question').count()).toBe(0)
    await answer.getByRole('button', { name: /pim\s+The original question/ }).click()
    const original = message(roz, 'The original question')
    await original.waitFor()
    await eventually(() => original.locator('.message').getAttribute('class')).toContain('highlighted')
    expect(await original.isVisible()).toBe(true)
    problems.expectNone()
  })
})
