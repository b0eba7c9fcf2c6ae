// Notifications (issue 11): the browser is asked only when `Enable notifications`
// is pressed; while the tab is hidden a mention, or a dm message, makes a desktop
// notification whose click opens its room; the tab's icon shows a dot while
// something is unread; a room set to `Nothing` in Room settings stays silent, on
// every device of the person. The service worker registers at the root, shows a
// push (delivered through the DevTools protocol: headless Chromium reaches no
// push service) while no tab of ours is in view, and its click opens the room.
import type { BrowserContext, Page, Worker } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, Person, TestBrowser, eventually } from './browser'

const baseUrl = `http://127.0.0.1:${inject('serverPort')}`

const browser = new TestBrowser()

beforeAll(() => browser.launch())

afterAll(() => browser.close())

interface Shown {
  title: string
  body: string
  tag: string
}

declare global {
  interface Window {
    __notifications: (Shown & { notification: Notification })[]
    __permissionAsks: number
    __setHidden(hidden: boolean): void
  }
}

/**
 * Before the app runs: every Notification it makes is recorded (and still made),
 * requestPermission calls are counted, and the test can make the page "hidden"
 * as a tab in the background is (headless pages are always visible).
 */
function spyOnNotifications(): void {
  const Real = window.Notification
  window.__notifications = []
  window.__permissionAsks = 0
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options)
      window.__notifications.push({ title, body: options?.body ?? '', tag: options?.tag ?? '', notification: this })
    }
    static override requestPermission(callback?: NotificationPermissionCallback) {
      window.__permissionAsks += 1
      return Real.requestPermission(callback)
    }
  }
  window.Notification = Recorded
  let hidden = false
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') })
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden })
  window.__setHidden = (next) => {
    hidden = next
    document.dispatchEvent(new Event('visibilitychange'))
  }
}

function person(problems: PageProblems, username: string, { granted = true } = {}): Promise<Person> {
  return browser.person(problems, baseUrl, '/r/general', username, {
    signUp: true,
    async beforeOpen(context) {
      if (granted) await context.grantPermissions(['notifications'], { origin: baseUrl })
      await context.addInitScript(spyOnNotifications)
    },
  })
}

/**
 * Chromium says this on the console itself when the app subscribes in a context
 * of Playwright's (they are incognito-like): the app handles the refusal (see the
 * service worker test); everything else still counts as a problem.
 */
const NO_PUSH_IN_INCOGNITO = /Chrome currently does not support the Push API in incognito mode/

function expectNoProblems(problems: PageProblems): void {
  expect(problems.problems.filter((problem) => !NO_PUSH_IN_INCOGNITO.test(problem))).toEqual([])
}

const shown = (page: Page) =>
  page.evaluate(() => window.__notifications.map(({ title, body, tag }) => ({ title, body, tag })))

const iconHref = (page: Page) => page.locator('link[rel="icon"]').getAttribute('href')

async function chooseLevel(who: Person, level: 'All messages' | 'Mentions' | 'Nothing'): Promise<void> {
  await who.page.getByRole('button', { name: 'Room settings' }).click()
  const settings = who.page.getByRole('dialog', { name: 'Room settings' })
  const group = settings.getByRole('group', { name: 'Notify me about' })
  await group.getByRole('radio', { name: level }).check()
  await eventually(() => group.getByRole('radio', { name: level }).isChecked()).toBe(true)
  await who.page.keyboard.press('Escape')
  await settings.waitFor({ state: 'detached' })
}

describe('the permission', () => {
  it('is asked only when Enable notifications is pressed; denied is said once, briefly', async () => {
    const problems = new PageProblems()
    const cleo = await person(problems, 'ntf-cleo', { granted: false })
    const enable = cleo.page.getByRole('button', { name: 'Enable notifications' })
    await enable.waitFor()
    expect(await cleo.page.evaluate(() => window.__permissionAsks)).toBe(0)
    expect(await axeViolations(cleo.page)).toEqual([])

    // Headless Chromium answers a prompt nobody can see with `denied`.
    await enable.click()
    await cleo.page.getByRole('status').filter({ hasText: 'Notifications are blocked' }).waitFor()
    expect(await cleo.page.evaluate(() => window.__permissionAsks)).toBe(1)
    expect(await enable.count()).toBe(0)

    // Granted in the browser's own settings meanwhile: the page notices, nothing is asked;
    // the person can still turn them off here, and on again.
    const dan = await person(problems, 'ntf-dan', { granted: false })
    await dan.page.getByRole('button', { name: 'Enable notifications' }).waitFor()
    await dan.page.context().grantPermissions(['notifications'], { origin: baseUrl })
    await dan.page.getByRole('button', { name: 'Turn off notifications' }).click()
    await dan.page.getByRole('button', { name: 'Turn on notifications' }).click()
    await dan.page.getByRole('button', { name: 'Turn off notifications' }).waitFor()
    expect(await dan.page.evaluate(() => window.__permissionAsks)).toBe(0)
    // Off is remembered in this browser.
    await dan.page.getByRole('button', { name: 'Turn off notifications' }).click()
    await dan.page.reload()
    await dan.page.getByRole('button', { name: 'Turn on notifications' }).waitFor()
    expectNoProblems(problems)
  })
})

describe('desktop notifications while the tab is hidden', () => {
  it('notify of a mention and a dm, open the room when clicked, and stay silent at Nothing', async () => {
    const problems = new PageProblems()
    const ada = await person(problems, 'ntf-ada')
    const ben = await person(problems, 'ntf-ben')
    // Notifications are on from the grant: no button to ask with.
    await ada.page.getByRole('button', { name: 'Turn off notifications' }).waitFor()
    expect(await ada.page.getByRole('button', { name: 'Enable notifications' }).count()).toBe(0)
    await ben.join('ntf-lounge')
    await ada.join('ntf-lounge')
    await ada.page.getByRole('link', { name: /^general/ }).click()
    await ada.page.waitForURL('**/r/general')
    const plainIcon = await iconHref(ada.page)

    // Visible: nothing pops up, the room list counts it.
    await ben.say('@ntf-ada while you look')
    await eventually(() => ada.page.title()).toMatch(/^\(1\) /)
    expect(await shown(ada.page)).toEqual([])
    expect(await iconHref(ada.page)).not.toBe(plainIcon)
    expect(await ada.page.locator('link[rel="icon"][data-unread]').count()).toBe(1)

    await ada.page.evaluate(() => window.__setHidden(true))
    // Mentions is a room's default: plain talk is no news, a mention is.
    await ben.say('just chatting')
    await eventually(() => ada.page.title()).toMatch(/^\(2\) /)
    await ben.say('@ntf-ada look at this')
    await eventually(() => shown(ada.page)).toEqual([
      { title: 'ntf-ben in #ntf-lounge', body: '@ntf-ada look at this', tag: 'room:ntf-lounge' },
    ])

    // Clicking it opens the room; with everything read the dot goes.
    await ada.page.evaluate(() => window.__setHidden(false))
    await ada.page.evaluate(() => window.__notifications[0]!.notification.dispatchEvent(new Event('click')))
    await ada.page.waitForURL('**/r/ntf-lounge')
    await ada.messagesExactly('@ntf-ada look at this').waitFor()
    await eventually(() => iconHref(ada.page)).toBe(plainIcon)
    expect(await ada.page.locator('link[rel="icon"][data-unread]').count()).toBe(0)

    // A dm notifies of every message by default, called by who wrote it.
    await ada.page.evaluate(() => window.__setHidden(true))
    await ben.online.getByRole('button', { name: 'Message ntf-ada' }).click()
    await ben.page.waitForURL(/\/r\/dm-\d+-\d+$/)
    const dmPath = new URL(ben.page.url()).pathname
    await ben.say('a word in private')
    await eventually(async () => (await shown(ada.page)).at(-1)).toEqual({
      title: 'ntf-ben', body: 'a word in private', tag: `room:${dmPath.slice(3)}`,
    })

    // Nothing: set here, kept by the server (a reload reads it back), and silence.
    await ada.page.evaluate(() => window.__setHidden(false))
    await chooseLevel(ada, 'Nothing')
    await ada.page.reload()
    await ada.log.waitFor()
    await ada.page.getByRole('button', { name: 'Room settings' }).click()
    const group = ada.page.getByRole('dialog', { name: 'Room settings' }).getByRole('group', { name: 'Notify me about' })
    await eventually(() => group.getByRole('radio', { name: 'Nothing' }).isChecked()).toBe(true)
    expect(await axeViolations(ada.page)).toEqual([])
    await ada.page.keyboard.press('Escape')
    await ada.page.getByRole('link', { name: /^general/ }).click()
    await ada.page.waitForURL('**/r/general')
    await ada.page.evaluate(() => window.__setHidden(true))
    await ben.join('ntf-lounge')
    await ben.say('@ntf-ada are you there')
    // Counted (with the dm's unread message), so it has arrived.
    await eventually(() => ada.page.title()).toMatch(/^\(2\) /)
    // Then a dm message, which does notify: had the mention notified, it would have come first.
    await ben.page.goto(`${baseUrl}${dmPath}`)
    await ben.log.waitFor()
    await ben.say('and now in private')
    // (The page was reloaded since the first two: its record starts there.)
    await eventually(async () => (await shown(ada.page)).map((n) => n.body)).toEqual(['and now in private'])
    expectNoProblems(problems)
  })

  it("follows a level changed on the person's other device, live", async () => {
    const problems = new PageProblems()
    const eve = await person(problems, 'ntf-eve')
    const fred = await person(problems, 'ntf-fred')
    await fred.join('ntf-porch')
    await eve.join('ntf-porch')
    // Eve's second tab (same browser, same session) changes the level to All messages.
    const second = await problems.watch(await eve.page.context().newPage())
    await second.goto(`${baseUrl}/r/ntf-porch`)
    await second.getByRole('log', { name: 'Messages' }).waitFor()
    await second.getByRole('button', { name: 'Room settings' }).click()
    await second.getByRole('group', { name: 'Notify me about' }).getByRole('radio', { name: 'All messages' }).check()
    await second.close()

    await eve.page.getByRole('button', { name: 'Room settings' }).click()
    const group = eve.page.getByRole('group', { name: 'Notify me about' })
    await eventually(() => group.getByRole('radio', { name: 'All messages' }).isChecked()).toBe(true)
    await eve.page.keyboard.press('Escape')
    await eve.page.evaluate(() => window.__setHidden(true))
    await fred.say('no mention, all the same')
    await eventually(() => shown(eve.page)).toEqual([
      { title: 'ntf-fred in #ntf-porch', body: 'no mention, all the same', tag: 'room:ntf-porch' },
    ])
    expectNoProblems(problems)
  })
})

/** What the test uses of the service worker's global scope (the DOM types have no worker scope). */
interface WorkerScope extends EventTarget {
  registration: ServiceWorkerRegistration
  NotificationEvent: new (type: string, init: { notification: Notification }) => Event
}

describe('the service worker', () => {
  async function worker(context: BrowserContext): Promise<Worker> {
    return context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'))
  }

  it('registers at the root, shows a push while no tab is in view, and opens its room when clicked', async () => {
    const problems = new PageProblems()
    const gia = await person(problems, 'ntf-gia')
    const context = gia.page.context()
    await eventually(() => gia.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope ?? null)).toBe(
      `${baseUrl}/`,
    )
    await gia.page.evaluate(() => navigator.serviceWorker.ready)
    // The server sends Web Push (its key is on the page), but headless Chromium reaches no push
    // service: subscribing fails, and the person is told in a few words; nothing breaks.
    expect(await gia.page.locator('meta[name="vapid-public-key"]').getAttribute('content')).toMatch(/^B[\w-]{86}$/)
    await gia.page.getByRole('status').filter({ hasText: 'No push messages in this browser' }).waitFor()
    expect(await gia.page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.pushManager.getSubscription())).toBeNull()
    await gia.page.getByRole('button', { name: 'Turn off notifications' }).waitFor()

    const cdp = await context.newCDPSession(gia.page)
    const registrations = new Map<string, string>()
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
      for (const r of list) registrations.set(r.scopeURL, r.registrationId)
    })
    await cdp.send('ServiceWorker.enable')
    await eventually(() => Promise.resolve(registrations.get(`${baseUrl}/`) ?? null)).not.toBeNull()
    const push = (payload: object) =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: baseUrl, registrationId: registrations.get(`${baseUrl}/`)!, data: JSON.stringify(payload),
      })
    /**
     * DevTools' push now and then never reaches the worker (its log shows no push
     * event): delivered again until `read` gives `expected`, as a push service
     * retries. A push delivered twice is shown once (one notification per room).
     */
    async function pushUntil(payload: object, read: () => Promise<unknown>, expected: unknown): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        await push(payload)
        try {
          return await expect.poll(read, { timeout: 3_000, interval: 100 }).toEqual(expected)
        } catch (error) {
          if (attempt === 4) throw error
        }
      }
    }
    const author = { id: 999, username: 'ntf-hal' }
    const notifications = async () =>
      (await worker(context)).evaluate(async () =>
        (await (self as unknown as WorkerScope).registration.getNotifications()).map((n) => ({
          title: n.title, body: n.body, tag: n.tag,
        })),
      )

    // A tab of ours in view: the page shows messages itself, the worker stays quiet.
    await push({ room: 'ntf-yard', seq: 1, author, body: 'seen in the tab', kind: 'public' })
    await gia.page.waitForTimeout(500)
    expect(await notifications()).toEqual([])

    // No tab of ours: the push is shown, one per room.
    await gia.page.goto('about:blank')
    const byTag = async () => (await notifications()).sort((a, b) => a.tag.localeCompare(b.tag))
    await pushUntil({ room: 'ntf-yard', seq: 3, author, body: '@ntf-gia the yard needs you', kind: 'public' }, notifications, [
      { title: 'ntf-hal in #ntf-yard', body: '@ntf-gia the yard needs you', tag: 'room:ntf-yard' },
    ])
    await pushUntil({ room: 'dm-1-999', seq: 1, author, body: 'psst', kind: 'dm' }, byTag, [
      { title: 'ntf-hal', body: 'psst', tag: 'room:dm-1-999' },
      { title: 'ntf-hal in #ntf-yard', body: '@ntf-gia the yard needs you', tag: 'room:ntf-yard' },
    ])

    // Clicked, with a tab of ours open again: that tab opens the room.
    await gia.page.goto(`${baseUrl}/r/general`)
    await gia.log.waitFor()
    await (await worker(context)).evaluate(async () => {
      const scope = self as unknown as WorkerScope
      const [notification] = await scope.registration.getNotifications({ tag: 'room:ntf-yard' })
      scope.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: notification! }))
    })
    await gia.page.waitForURL('**/r/ntf-yard')
    await gia.log.waitFor()
    await eventually(notifications).toEqual([{ title: 'ntf-hal', body: 'psst', tag: 'room:dm-1-999' }])
    expectNoProblems(problems)
  })
})
