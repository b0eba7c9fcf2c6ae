// Private conversations (issue 9): two people start a dm, from `Message USERNAME`
// and from `New direct message`, and it appears live for the other with its
// unread count; a private room that a third person cannot find, is invited to
// (it appears live) and is removed from (it disappears live, nothing more
// arrives). axe runs with each dialog open.
import type { Locator } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'
import { makeStaff } from './seed'

const baseUrl = `http://127.0.0.1:${inject('serverPort')}`
const varDir = inject('varDir')

const browser = new TestBrowser()

beforeAll(() => browser.launch())

afterAll(() => browser.close())

const person = (problems: PageProblems, path: string, username: string) =>
  browser.person(problems, baseUrl, path, username, { signUp: true })

function dialog(who: Person, name: string): Locator {
  return who.page.getByRole('dialog', { name })
}

/** The group of the Rooms navigation under the heading `name`. */
function roomGroup(who: Person, name: 'Your rooms' | 'Direct messages' | 'More rooms'): Locator {
  return who.rooms.locator('.room-group').filter({ has: who.page.getByRole('heading', { name, exact: true }) })
}

function roomLinks(who: Person, startingWith: string): Locator {
  return who.rooms.getByRole('link', { name: new RegExp(`^${startingWith}`) })
}

describe('direct messages', () => {
  it('starts a dm from Message USERNAME; it appears live for the other with its unread count', async () => {
    const problems = new PageProblems()
    const dora = await person(problems, '/r/general', 'pv-dora')
    const emil = await person(problems, '/r/general', 'pv-emil')
    await eventually(async () => (await dora.onlineNames()).includes('pv-emil')).toBe(true)
    // Nobody messages themself.
    expect(await dora.online.getByRole('button', { name: 'Message pv-dora' }).count()).toBe(0)

    await dora.online.getByRole('button', { name: 'Message pv-emil' }).click()
    await dora.page.waitForURL(/\/r\/dm-\d+-\d+$/)
    const dmPath = new URL(dora.page.url()).pathname
    await dora.page.getByRole('heading', { level: 2, name: 'pv-emil', exact: true }).waitFor()
    // A dm is never left: it has no Leave room.
    expect(await dora.page.getByRole('button', { name: 'Leave room' }).count()).toBe(0)
    await eventually(() => roomGroup(dora, 'Direct messages').getByRole('link', { name: /^pv-emil/ }).count()).toBe(1)

    // Emil reads general: the dm enters his list by itself, and counts what Dora writes.
    await eventually(() => roomGroup(emil, 'Direct messages').getByRole('link', { name: /^pv-dora/ }).count()).toBe(1)
    await dora.say('just between us')
    await dora.say('second thought')
    await eventually(() => emil.rooms.getByRole('link', { name: 'pv-dora 2', exact: true }).count()).toBe(1)

    await emil.rooms.getByRole('link', { name: /^pv-dora/ }).click()
    await emil.page.waitForURL(`**${dmPath}`)
    await emil.messagesExactly('just between us').waitFor()
    await emil.page.getByRole('heading', { level: 2, name: 'pv-dora', exact: true }).waitFor()

    // Room settings of a dm: its members, each with Message, nobody to remove, no leaving.
    await emil.page.getByRole('button', { name: 'Room settings' }).click()
    const settings = dialog(emil, 'Room settings')
    await settings.waitFor()
    const members = settings.getByRole('list', { name: 'Members' })
    await eventually(async () => (await members.getByRole('listitem').allTextContents()).length).toBe(2)
    expect(await settings.getByRole('button', { name: 'Message pv-dora' }).count()).toBe(1)
    expect(await settings.getByRole('button', { name: /^Remove/ }).count()).toBe(0)
    expect(await settings.getByRole('button', { name: 'Leave room' }).count()).toBe(0)
    expect(await axeViolations(emil.page)).toEqual([])
    await emil.page.keyboard.press('Escape')
    await settings.waitFor({ state: 'detached' })

    // A reload opens the dm again from its address.
    await emil.page.reload()
    await emil.messagesExactly('second thought').waitFor()
    await emil.page.getByRole('heading', { level: 2, name: 'pv-dora', exact: true }).waitFor()
    problems.expectNone()
  })

  it('New direct message finds the same dm again, and names an unknown username', async () => {
    const problems = new PageProblems()
    const fay = await person(problems, '/r/general', 'pv-fay')
    const gil = await person(problems, '/r/general', 'pv-gil')
    await eventually(async () => (await gil.onlineNames()).includes('pv-fay')).toBe(true)

    await fay.page.getByRole('button', { name: 'New direct message' }).click()
    const start = dialog(fay, 'New direct message')
    await start.waitFor()
    // While the dialog is open, role lookups find only what it holds.
    expect(await fay.page.getByRole('button', { name: 'Log out' }).count()).toBe(0)
    expect(await axeViolations(fay.page)).toEqual([])
    await start.getByRole('textbox', { name: 'People' }).fill('nobody-by-this-name')
    await start.getByRole('button', { name: 'Start' }).click()
    await start.getByRole('alert').waitFor()
    await start.getByRole('textbox', { name: 'People' }).fill('pv-gil, pv-fay')
    await start.getByRole('button', { name: 'Start' }).click()
    await fay.page.waitForURL(/\/r\/dm-\d+-\d+$/)
    const dmPath = new URL(fay.page.url()).pathname
    await fay.page.getByRole('heading', { level: 2, name: 'pv-gil', exact: true }).waitFor()
    await fay.say('hello from the dialog')

    // Gil sees it live with its count, then opens the same dm from Fay's Message button.
    await eventually(() => gil.rooms.getByRole('link', { name: 'pv-fay 1', exact: true }).count()).toBe(1)
    await gil.online.getByRole('button', { name: 'Message pv-fay' }).click()
    await gil.page.waitForURL(`**${dmPath}`)
    await gil.messagesExactly('hello from the dialog').waitFor()
    expect(await roomLinks(gil, 'pv-fay').count()).toBe(1)
    problems.expectNone()
  })
})

describe('a private room', () => {
  it('cannot be found by a third person until invited, and is gone for them, live, once removed', async () => {
    const problems = new PageProblems()
    const gus = await person(problems, '/r/general', 'pv-gus')
    const hana = await person(problems, '/r/general', 'pv-hana')

    // Gus makes it, private, with a topic.
    await gus.page.getByRole('button', { name: 'New room' }).click()
    const create = dialog(gus, 'New room')
    await create.waitFor()
    await create.getByRole('textbox', { name: 'Room name' }).fill('pv-hideout')
    await create.getByRole('textbox', { name: 'Topic' }).fill('the quiet plans')
    await create.getByRole('checkbox', { name: 'Private' }).check()
    expect(await axeViolations(gus.page)).toEqual([])
    await create.getByRole('button', { name: 'Create' }).click()
    await gus.page.waitForURL('**/r/pv-hideout')
    await gus.page.getByRole('heading', { level: 2, name: 'pv-hideout', exact: true }).waitFor()
    await gus.page.getByText('the quiet plans', { exact: true }).waitFor()
    await gus.say('the first secret')

    // Hana cannot find it: not listed, its address shows nothing of it, its name is taken.
    await hana.page.reload()
    await hana.log.waitFor()
    expect(await roomLinks(hana, 'pv-hideout').count()).toBe(0)
    await hana.page.goto(`${baseUrl}/r/pv-hideout`)
    await hana.page.getByRole('alert').filter({ hasText: 'does not exist or you may not read it' }).waitFor()
    expect(await hana.log.count()).toBe(0)
    expect(await hana.page.getByText('the first secret').count()).toBe(0)
    expect(await hana.page.getByText('the quiet plans').count()).toBe(0)
    expect(await roomLinks(hana, 'pv-hideout').count()).toBe(0)
    await hana.page.getByRole('button', { name: 'New room' }).click()
    const taken = dialog(hana, 'New room')
    await taken.getByRole('textbox', { name: 'Room name' }).fill('pv-hideout')
    await taken.getByRole('button', { name: 'Create' }).click()
    await taken.getByRole('alert').waitFor()
    await taken.getByRole('button', { name: 'Cancel' }).click()
    await hana.rooms.getByRole('link', { name: /^general/ }).click()
    await hana.page.waitForURL('**/r/general')

    // Gus invites her from Room settings: it appears in her list by itself.
    await gus.page.getByRole('button', { name: 'Room settings' }).click()
    const settings = dialog(gus, 'Room settings')
    await settings.waitFor()
    expect(await axeViolations(gus.page)).toEqual([])
    await settings.getByRole('textbox', { name: 'Invite' }).fill('pv-hana')
    await settings.getByRole('button', { name: 'Invite' }).click()
    await settings.getByRole('list', { name: 'Members' }).getByText('pv-hana').waitFor()
    await eventually(() => roomGroup(hana, 'Your rooms').getByRole('link', { name: /^pv-hideout/ }).count()).toBe(1)

    // She reads it; the topic Gus changes reaches her header live.
    await hana.rooms.getByRole('link', { name: /^pv-hideout/ }).click()
    await hana.messagesExactly('the first secret').waitFor()
    await settings.getByRole('textbox', { name: 'Topic' }).fill('plans, revised')
    await settings.getByRole('button', { name: 'Save' }).click()
    await hana.page.getByText('plans, revised', { exact: true }).waitFor()
    // A member who is not the owner removes nobody.
    await hana.page.getByRole('button', { name: 'Room settings' }).click()
    const hers = dialog(hana, 'Room settings')
    await hers.getByRole('list', { name: 'Members' }).getByText('pv-gus').waitFor()
    expect(await hers.getByRole('button', { name: 'Remove pv-gus' }).count()).toBe(0)
    expect(await hers.getByRole('button', { name: 'Leave room' }).count()).toBe(1)
    await hers.getByRole('button', { name: 'Close' }).click()

    // Gus removes her: gone from her list, her open room goes to general with a notice.
    await settings.getByRole('button', { name: 'Remove pv-hana' }).click()
    await eventually(() => settings.getByRole('list', { name: 'Members' }).getByText('pv-hana').count()).toBe(0)
    await hana.page.waitForURL('**/r/general')
    await hana.page.getByRole('status').filter({ hasText: 'no longer a member of pv-hideout' }).waitFor()
    await eventually(() => roomLinks(hana, 'pv-hideout').count()).toBe(0)

    // Nothing more reaches her: a message in the room, then one in general that she does get.
    await gus.page.keyboard.press('Escape')
    await gus.say('after she left')
    await gus.rooms.getByRole('link', { name: /^general/ }).click()
    await gus.page.waitForURL('**/r/general')
    await gus.say('hello general, after')
    await hana.messagesExactly('hello general, after').waitFor()
    expect(await roomLinks(hana, 'pv-hideout').count()).toBe(0)
    expect(await hana.page.getByText('after she left').count()).toBe(0)
    await hana.page.goto(`${baseUrl}/r/pv-hideout`)
    await hana.page.getByRole('alert').filter({ hasText: 'does not exist or you may not read it' }).waitFor()
    expect(await hana.page.getByText('after she left').count()).toBe(0)
    problems.expectNone()
  })
})

describe('staff', () => {
  it('moderate a private room they are not a member of: delete a message, remove a member', async () => {
    const problems = new PageProblems()
    const kai = await person(problems, '/r/general', 'pv-kai')
    const lea = await person(problems, '/r/general', 'pv-lea')
    const max = await person(problems, '/r/general', 'pv-max')

    // Kai makes a private room, writes in it and invites Lea.
    await kai.page.getByRole('button', { name: 'New room' }).click()
    const create = dialog(kai, 'New room')
    await create.getByRole('textbox', { name: 'Room name' }).fill('pv-staffed')
    await create.getByRole('checkbox', { name: 'Private' }).check()
    await create.getByRole('button', { name: 'Create' }).click()
    await kai.page.waitForURL('**/r/pv-staffed')
    await kai.say('kai was here')
    await kai.messagesExactly('kai was here').getByRole('button', { name: 'Edit', exact: true }).waitFor()
    await kai.page.getByRole('button', { name: 'Room settings' }).click()
    const settings = dialog(kai, 'Room settings')
    await settings.getByRole('textbox', { name: 'Invite' }).fill('pv-lea')
    await settings.getByRole('button', { name: 'Invite' }).click()
    await settings.getByRole('list', { name: 'Members' }).getByText('pv-lea').waitFor()
    await kai.page.keyboard.press('Escape')
    await eventually(() => roomLinks(lea, 'pv-staffed').count()).toBe(1)

    // An administrator makes Max staff; his app learns it from his session.
    makeStaff(varDir, 'pv-max')
    await max.page.goto(`${baseUrl}/r/pv-staffed`)
    const kais = max.messagesExactly('kai was here')
    await kais.hover()
    // Not his message: no Edit, but Delete, as for the room's owner.
    expect(await kais.getByRole('button', { name: 'Edit', exact: true }).count()).toBe(0)
    await kais.getByRole('button', { name: 'Delete', exact: true }).click()
    const confirm = max.page.getByRole('dialog', { name: 'Delete message' })
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
    await kai.messagesWith('This message was deleted').waitFor()

    // Room settings: he removes Lea (the room leaves her list live), never the owner.
    await max.page.getByRole('button', { name: 'Room settings' }).click()
    const his = dialog(max, 'Room settings')
    await his.getByRole('list', { name: 'Members' }).getByText('pv-lea').waitFor()
    expect(await his.getByRole('button', { name: 'Remove pv-kai' }).count()).toBe(0)
    await his.getByRole('button', { name: 'Remove pv-lea' }).click()
    await eventually(() => his.getByRole('list', { name: 'Members' }).getByText('pv-lea').count()).toBe(0)
    await eventually(() => roomLinks(lea, 'pv-staffed').count()).toBe(0)
    problems.expectNone()
  })
})
