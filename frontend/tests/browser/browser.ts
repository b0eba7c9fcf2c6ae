// Chromium from Debian, driven by playwright-core, found the way a screen reader
// finds things: by role and accessible name.
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core'
import { expect } from 'vitest'

/** Without these Chromium hangs on this machine's closed network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** playwright-core gives every launch a fresh temporary --user-data-dir of its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  })
}

/** Console errors, uncaught exceptions, dialogs (an alert means HTML ran) and
 * Content-Security-Policy violations, which the page hears as DOM events. */
export class PageProblems {
  readonly problems: string[] = []
  private allowed: RegExp[] = []

  async watch(page: Page): Promise<Page> {
    page.on('console', (message) => {
      if (message.type() !== 'error') return
      const text = message.text()
      if (this.allowed.some((pattern) => pattern.test(text))) return
      this.problems.push(`console error on ${page.url()}: ${text}`)
    })
    page.on('pageerror', (error) => this.problems.push(`uncaught on ${page.url()}: ${error.message}`))
    page.on('dialog', (dialog) => {
      this.problems.push(`dialog on ${page.url()}: ${dialog.type()} ${dialog.message()}`)
      void dialog.dismiss()
    })
    // Never allowed, even while the server is down: the console line may be
    // worded differently, the event is not.
    await page.exposeFunction('__cspViolation', (violation: string) => {
      this.problems.push(`CSP violation on ${page.url()}: ${violation}`)
    })
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        const report = (window as unknown as { __cspViolation(text: string): void }).__cspViolation
        report(`${event.effectiveDirective} refused ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`)
      })
    })
    return page
  }

  /** Errors a browser reports by itself while the server is down, and only while it is. */
  async allowWhile<T>(patterns: RegExp[], during: () => Promise<T>): Promise<T> {
    this.allowed = patterns
    try {
      return await during()
    } finally {
      this.allowed = []
    }
  }

  expectNone(): void {
    expect(this.problems).toEqual([])
  }
}

export class Person {
  constructor(
    readonly page: Page,
    readonly username: string,
    readonly password: string,
  ) {}

  /** `beforeLoad` runs on the new page before the app loads (a route for its socket, say). */
  static async open(
    context: BrowserContext, problems: PageProblems, baseUrl: string, path: string, username: string,
    beforeLoad?: (page: Page) => Promise<void>,
  ) {
    const page = await problems.watch(await context.newPage())
    await beforeLoad?.(page)
    await page.goto(`${baseUrl}${path}`)
    return new Person(page, username, `${username}-Passw0rd-long!`)
  }

  async signUp(): Promise<void> {
    await this.page.getByLabel('Username', { exact: true }).fill(this.username)
    await this.page.getByLabel('Password', { exact: true }).fill(this.password)
    await this.page.getByRole('button', { name: 'Sign up' }).click()
    await this.page.getByRole('button', { name: 'Log out' }).waitFor()
  }

  get log() {
    return this.page.getByRole('log', { name: 'Messages' })
  }

  get online() {
    return this.page.getByRole('list', { name: 'Online' })
  }

  get typing() {
    return this.page.getByRole('status', { name: 'Typing' })
  }

  get connection() {
    return this.page.getByRole('status', { name: 'Connection' })
  }

  get composer() {
    return this.page.getByRole('textbox', { name: 'Message' })
  }

  get rooms() {
    return this.page.getByRole('navigation', { name: 'Rooms' })
  }

  /** Messages in the log whose text includes `text`. */
  messagesWith(text: string) {
    return this.log.getByRole('listitem').filter({ hasText: text })
  }

  /** Messages in the log whose body is exactly `body`. */
  messagesExactly(body: string) {
    return this.log.getByRole('listitem').filter({ has: this.page.getByText(body, { exact: true }) })
  }

  async say(body: string): Promise<void> {
    await this.composer.fill(body)
    await this.composer.press('Enter')
  }

  async join(room: string): Promise<void> {
    await this.page.getByRole('textbox', { name: 'Room name' }).fill(room)
    await this.page.getByRole('button', { name: 'Join' }).click()
    await this.page.waitForURL(`**/r/${room}`)
    await this.log.waitFor()
  }

  async onlineNames(): Promise<string[]> {
    return (await this.online.getByRole('listitem').allTextContents()).map((text) => text.trim())
  }
}

/** A desktop screen: the viewport a context has unless a test asks for another. */
export const SCREEN = { width: 1280, height: 800 }

export interface PersonOptions {
  viewport?: { width: number; height: number }
  /** Signs up as soon as the page is open. */
  signUp?: boolean
  /** Runs on the new context before its page opens (permissions, init scripts). */
  beforeOpen?: (context: BrowserContext) => Promise<void>
  /** Runs on the new page before the app loads. */
  beforeLoad?: (page: Page) => Promise<void>
}

/**
 * One Chromium for a test file and every context its tests open: a test's
 * people each have a context (cookies, storage) of their own, and all of them
 * close with the browser, whatever a failed test left open.
 */
export class TestBrowser {
  private browser: Browser | undefined
  private readonly contexts: BrowserContext[] = []

  async launch(): Promise<void> {
    this.browser = await launchChromium()
  }

  async newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
    if (!this.browser) throw new Error('TestBrowser.newContext before launch()')
    const context = await this.browser.newContext({ viewport: SCREEN, ...options })
    this.contexts.push(context)
    return context
  }

  /** Someone at `baseUrl` + `path`, in a context of their own. */
  async person(problems: PageProblems, baseUrl: string, path: string, username: string, options: PersonOptions = {}): Promise<Person> {
    const context = await this.newContext({ viewport: options.viewport ?? SCREEN })
    await options.beforeOpen?.(context)
    const who = await Person.open(context, problems, baseUrl, path, username, options.beforeLoad)
    if (options.signUp) await who.signUp()
    return who
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined)
    await this.browser?.close()
  }
}

/** Polls until `read` gives the expected value. */
export function eventually<T>(read: () => Promise<T>, timeout = 15_000) {
  return expect.poll(read, { timeout, interval: 100 })
}
