// Attachments end to end: files chosen with `Attach file`, dropped on the room
// or refused as too big, each with its progress bar and `Remove FILENAME`,
// sent with a message and seen by another person as a thumbnail and a link
// with its size. A Daphne of its own with a small upload limit, so the 413
// comes from a small file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { axeViolations } from './axe'
import { PageProblems, TestBrowser, eventually } from './browser'
import { freePort, migrate, startDaphne, stopRecorded } from './server'

/** Bytes one upload may have on our server: the test's image and PDF fit, `huge.bin` does not. */
const UPLOAD_LIMIT = 200_000
const suffix = Math.random().toString(36).slice(2, 7)
const SERVER_ENV = { CHAT_UPLOAD_MAX_BYTES: String(UPLOAD_LIMIT) }
/** What Chromium itself logs while the server is gone: refused connections. */
const OUTAGE_NOISE = [/WebSocket connection to .* failed/, /ERR_CONNECTION_REFUSED/, /Failed to load resource/]

const browser = new TestBrowser()
let varDir: string
let port: number
let baseUrl: string

beforeAll(async () => {
  await browser.launch()
  varDir = mkdtempSync(join(tmpdir(), 'chat-attach-'))
  port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  migrate(varDir)
  await startDaphne(port, varDir, SERVER_ENV)
})

afterAll(async () => {
  await browser.close()
  await stopRecorded(varDir)
  rmSync(varDir, { recursive: true, force: true })
})

const person = (problems: PageProblems, path: string, username: string) => browser.person(problems, baseUrl, path, username)

/** A small PDF-looking file: the server keeps any bytes as a plain file. */
function pdfBytes(size: number): Buffer {
  const head = Buffer.from('%PDF-1.4\n% attachments test\n')
  return Buffer.concat([head, Buffer.alloc(size - head.length, 0x41)])
}

/** Uploads slowed to a crawl for this page, so a progress bar is there long enough to see and to remove. */
async function slowUploads(page: Page, bytesPerSecond: number | null): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond ?? -1,
  })
}

/** Drops an image the page draws (a canvas made into a PNG) on the room's log, as a person dragging a file would. */
async function dropImage(page: Page, name: string, width: number, height: number): Promise<void> {
  await page.evaluate(
    async ({ name, width, height }) => {
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const context = canvas.getContext('2d')!
      context.fillStyle = '#4f46e5'
      context.fillRect(0, 0, width, height)
      // A patch of noise, so the PNG is some tens of kilobytes and takes a while at the slowed speed.
      const noise = context.createImageData(120, 120)
      for (let i = 0; i < noise.data.length; i++) noise.data[i] = i % 4 === 3 ? 255 : Math.floor(Math.random() * 256)
      context.putImageData(noise, 10, 10)
      const blob = await new Promise<Blob>((resolve) => canvas.toBlob((b) => resolve(b!), 'image/png'))
      const transfer = new DataTransfer()
      transfer.items.add(new File([blob], name, { type: 'image/png' }))
      const target = document.querySelector('[role="log"]')!
      const fire = (type: string) =>
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }))
      fire('dragenter')
      fire('dragover')
      // The drop zone shows while files hover over the room (React renders drag events' updates a task later).
      for (let i = 0; i < 100 && !document.querySelector('.drop-zone'); i++) await new Promise((resolve) => setTimeout(resolve, 20))
      if (!document.querySelector('.drop-zone')) throw new Error('no drop zone while dragging files')
      fire('drop')
    },
    { name, width, height },
  )
}

describe('attachments', () => {
  it('drop and Attach file upload with progress bars; Remove drops a file; the other person sees a thumbnail and a link with its size', async () => {
    const room = `att-${suffix}`
    const problems = new PageProblems()
    const ana = await person(problems, `/r/${room}`, `atta${suffix}`)
    const ben = await person(problems, `/r/${room}`, `attb${suffix}`)
    await ana.signUp()
    await ben.signUp()
    await eventually(async () => (await ana.onlineNames()).length).toBe(2)
    const { page } = ana

    // Slow, so each file shows its bar for a while.
    await slowUploads(page, 40_000)
    await dropImage(page, 'chart.png', 640, 360)
    await page.getByLabel('Attach file').setInputFiles([
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdfBytes(60_000) },
      { name: 'draft.pdf', mimeType: 'application/pdf', buffer: pdfBytes(60_000) },
    ])
    const reportBar = page.getByRole('progressbar', { name: 'report.pdf' })
    await reportBar.waitFor()
    await page.getByRole('progressbar', { name: 'chart.png' }).waitFor()
    await page.getByRole('progressbar', { name: 'draft.pdf' }).waitFor()
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true)
    await eventually(async () => Number(await reportBar.getAttribute('aria-valuenow'))).toBeGreaterThan(0)
    expect(await axeViolations(page)).toEqual([])

    // Removed while it uploads: its bar goes, and so does the file.
    await page.getByRole('button', { name: 'Remove draft.pdf' }).click()
    await page.getByRole('progressbar', { name: 'draft.pdf' }).waitFor({ state: 'detached' })
    await slowUploads(page, null)
    await eventually(() => page.getByRole('progressbar').count(), 30_000).toBe(0)
    expect(await page.getByRole('button', { name: 'Remove draft.pdf' }).count()).toBe(0)
    await page.getByRole('button', { name: 'Remove chart.png' }).waitFor()
    await page.getByRole('button', { name: 'Remove report.pdf' }).waitFor()

    await ana.composer.fill('the chart and the report')
    await page.getByRole('button', { name: 'Send' }).click()
    await eventually(() => page.getByRole('button', { name: 'Remove report.pdf' }).count()).toBe(0)

    // Ben sees the thumbnail (loaded) in a link to the full image, and the PDF by name with its size.
    const message = ben.messagesWith('the chart and the report')
    const thumbnail = message.getByRole('img', { name: 'chart.png', exact: true })
    await thumbnail.waitFor()
    await eventually(() => thumbnail.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0)
    // Its box comes from the image's size (640 × 360 into 400 × 300), not from the loaded thumbnail.
    const box = await thumbnail.evaluate((img: HTMLImageElement) => [img.getAttribute('width'), img.getAttribute('height')])
    expect(box).toEqual(['400', '225'])
    const imageLink = message.getByRole('link', { name: 'chart.png', exact: true })
    const imageHref = await imageLink.getAttribute('href')
    expect(imageHref).toMatch(/chart\.png$/)
    const full = await ben.page.evaluate(async (href) => {
      const response = await fetch(href!)
      return [response.status, response.headers.get('content-type')]
    }, imageHref)
    expect(full).toEqual([200, 'image/png'])
    const pdfLink = message.getByRole('link', { name: 'report.pdf', exact: true })
    await pdfLink.waitFor()
    // Named by the file alone (found with exact: true), its size shown in it and read as its description.
    expect(await pdfLink.textContent()).toBe('report.pdf 59 KB')
    expect(await pdfLink.evaluate((link) => document.getElementById(link.getAttribute('aria-describedby')!)?.textContent)).toBe('59 KB')
    expect(await message.getByRole('link', { name: 'draft.pdf' }).count()).toBe(0)
    expect(await axeViolations(ben.page)).toEqual([])

    // Deleted: the files go with the body.
    await ana.messagesWith('the chart and the report').getByRole('button', { name: 'Delete' }).click()
    await page.getByRole('dialog', { name: 'Delete message' }).getByRole('button', { name: 'Delete' }).click()
    await ben.messagesWith('This message was deleted').waitFor()
    expect(await ben.log.getByRole('img', { name: 'chart.png' }).count()).toBe(0)
    expect(await ben.log.getByRole('link', { name: 'report.pdf' }).count()).toBe(0)
    problems.expectNone()
  })

  it('a file over the server’s limit shows why, in the server’s words, and can be removed', async () => {
    const problems = new PageProblems()
    const cleo = await person(problems, `/r/att-big-${suffix}`, `attc${suffix}`)
    await cleo.signUp()
    const { page } = cleo
    await problems.allowWhile([/status of 413/], async () => {
      await page.getByLabel('Attach file').setInputFiles([
        // Refused by the server before it reads the body, and by the upload view after reading it.
        { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(UPLOAD_LIMIT + 100_000, 1) },
        { name: 'over.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(UPLOAD_LIMIT + 1_000, 1) },
      ])
      for (const name of ['huge.bin', 'over.bin']) {
        const item = page.getByRole('listitem').filter({ hasText: name })
        await eventually(async () => (await item.textContent()) ?? '', 30_000).toMatch(/larger than/)
      }
    })
    expect(await page.getByRole('button', { name: /^Retry/ }).count()).toBe(0)
    await page.getByRole('button', { name: 'Remove over.bin' }).click()
    expect(await page.getByRole('progressbar').count()).toBe(0)
    // Nothing to send: a failed file is not an attachment.
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true)
    expect(await axeViolations(page)).toEqual([])
    await page.getByRole('button', { name: 'Remove huge.bin' }).click()
    await eventually(() => page.getByText('huge.bin').count()).toBe(0)

    // A file pasted into the composer (a copied screenshot) is attached, not pasted as text.
    await cleo.composer.evaluate((field) => {
      const transfer = new DataTransfer()
      transfer.items.add(new File(['%PDF-1.4 pasted'], 'pasted.pdf', { type: 'application/pdf' }))
      field.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }))
    })
    await page.getByRole('button', { name: 'Remove pasted.pdf' }).waitFor()
    expect(await cleo.composer.inputValue()).toBe('')
    await eventually(() => page.getByRole('button', { name: 'Send' }).isEnabled()).toBe(true)
    problems.expectNone()
  })

  it('a message with a file written while the server is down shows the file at once and goes out with it once back', async () => {
    const room = `att-down-${suffix}`
    const problems = new PageProblems()
    const dora = await person(problems, `/r/${room}`, `attd${suffix}`)
    const eli = await person(problems, `/r/${room}`, `atte${suffix}`)
    await dora.signUp()
    await eli.signUp()
    await eventually(async () => (await dora.onlineNames()).length).toBe(2)
    await dora.page.getByLabel('Attach file').setInputFiles([
      { name: 'minutes.pdf', mimeType: 'application/pdf', buffer: pdfBytes(2_000) },
    ])
    await dora.page.getByRole('button', { name: 'Remove minutes.pdf' }).waitFor()
    await eventually(() => dora.page.getByRole('progressbar').count()).toBe(0)

    const body = 'minutes while the server was down'
    await problems.allowWhile(OUTAGE_NOISE, async () => {
      await stopRecorded(varDir)
      await eventually(() => dora.connection.textContent()).toMatch(/Reconnecting…/)
      await dora.say(body)
      const mine = dora.messagesWith(body)
      await eventually(() => mine.textContent()).toContain('Sending…')
      // The file is on the server already: the message waiting in the outbox shows it.
      await mine.getByRole('link', { name: 'minutes.pdf', exact: true }).waitFor()

      await startDaphne(port, varDir, SERVER_ENV)
      for (const who of [dora, eli]) {
        const reconnectNow = who.page.getByRole('button', { name: 'Reconnect now' })
        if (await reconnectNow.isVisible()) await reconnectNow.click().catch(() => undefined)
      }
      await eventually(() => dora.log.getByText('Sending…').count(), 60_000).toBe(0)
      await eventually(() => eli.connection.textContent(), 60_000).toBe('')
    })
    const theirs = eli.messagesWith(body)
    await theirs.getByRole('link', { name: 'minutes.pdf', exact: true }).waitFor({ timeout: 30_000 })
    expect(await theirs.count()).toBe(1)
    problems.expectNone()
  })
})
