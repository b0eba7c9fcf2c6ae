import { describe, expect, it } from 'vitest'
import { attachmentsHeight, humanSize, thumbnailBox } from './attachments'

describe('humanSize', () => {
  it('says bytes below a kilobyte and one decimal below ten of a unit', () => {
    expect(humanSize(0)).toBe('0 bytes')
    expect(humanSize(1)).toBe('1 byte')
    expect(humanSize(1023)).toBe('1023 bytes')
    expect(humanSize(1024)).toBe('1 KB')
    expect(humanSize(1229)).toBe('1.2 KB')
    expect(humanSize(1_258_291)).toBe('1.2 MB')
    expect(humanSize(25 * 1024 * 1024)).toBe('25 MB')
    expect(humanSize(3 * 1024 ** 3)).toBe('3 GB')
  })
})

describe('thumbnailBox', () => {
  it('scales into 400 × 300 keeping the aspect, never up', () => {
    expect(thumbnailBox(800, 400)).toEqual({ width: 400, height: 200 })
    expect(thumbnailBox(400, 1200)).toEqual({ width: 100, height: 300 })
    expect(thumbnailBox(40, 30)).toEqual({ width: 40, height: 30 })
    expect(thumbnailBox(10_000, 1)).toEqual({ width: 400, height: 1 })
    expect(thumbnailBox(0, 0)).toEqual({ width: 400, height: 300 })
  })

  it('adds the thumbnails and file lines to a row’s first guess', () => {
    expect(attachmentsHeight(undefined)).toBe(0)
    expect(attachmentsHeight([{ image: { width: 800, height: 400 } }, { image: null }])).toBe(200 + 8 + 28)
  })
})
