import { describe, expect, it } from 'vitest'
import { AVATAR_PALETTE, avatarColour } from './avatar'

// sRGB #rrggbb to linear red, green and blue.
function linear(hex: string): [number, number, number] {
  const channel = (at: number) => {
    const value = parseInt(hex.slice(at, at + 2), 16) / 255
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4
  }
  return [channel(1), channel(3), channel(5)]
}

// WCAG 2.x relative luminance and contrast ratio.
function luminance(hex: string): number {
  const [r, g, b] = linear(hex)
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

function contrast(a: string, b: string): number {
  const [first, second] = [luminance(a), luminance(b)]
  return (Math.max(first, second) + 0.05) / (Math.min(first, second) + 0.05)
}

// CIE76 colour difference in CIELAB (D65): about 2.3 is just noticeable, 25+ is another colour.
function lab(hex: string): [number, number, number] {
  const [r, g, b] = linear(hex)
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116)
  const x = f((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047)
  const y = f(0.2126 * r + 0.7152 * g + 0.0722 * b)
  const z = f((0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)
  return [116 * y - 16, 500 * (x - y), 200 * (y - z)]
}

function deltaE(a: string, b: string): number {
  const [p, q] = [lab(a), lab(b)]
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2])
}

// The themes' page and panel backgrounds (--bg and --surface in styles/app.css).
const BACKDROPS = { light: ['#f6f7fb', '#ffffff'], dark: ['#0f1117', '#171a23'] }
const THEMES = ['light', 'dark'] as const

describe('avatar colours', () => {
  it('the letter keeps WCAG AA contrast (4.5:1) on every colour, in both themes', () => {
    for (const colour of AVATAR_PALETTE) {
      for (const theme of THEMES) {
        const { background, letter } = colour[theme]
        expect(contrast(letter, background), `${colour.name} ${theme}`).toBeGreaterThanOrEqual(4.5)
      }
    }
  })

  it('every avatar stands out from the page around it (3:1, as for any graphic)', () => {
    for (const colour of AVATAR_PALETTE) {
      for (const theme of THEMES) {
        for (const backdrop of BACKDROPS[theme]) {
          expect(contrast(colour[theme].background, backdrop), `${colour.name} ${theme}`).toBeGreaterThanOrEqual(3)
        }
      }
    }
  })

  it('adjacent ids get clearly different colours in both themes', () => {
    for (let id = 1; id <= 500; id++) {
      for (const theme of THEMES) {
        const [here, next] = [avatarColour(id)[theme].background, avatarColour(id + 1)[theme].background]
        expect(deltaE(here, next), `ids ${id} and ${id + 1}, ${theme}`).toBeGreaterThan(40)
      }
    }
  })

  it('any twelve consecutive ids all differ, and an id always gets the same colour', () => {
    for (let first = 1; first <= 100; first++) {
      const names = new Set(Array.from({ length: 12 }, (_, offset) => avatarColour(first + offset).name))
      expect(names.size).toBe(12)
    }
    expect(avatarColour(42)).toBe(avatarColour(42))
    expect(avatarColour(42)).toBe(avatarColour(42 + AVATAR_PALETTE.length))
  })

  it('no two colours of the palette look alike', () => {
    for (const theme of THEMES) {
      AVATAR_PALETTE.forEach((a, i) =>
        AVATAR_PALETTE.slice(i + 1).forEach((b) =>
          expect(deltaE(a[theme].background, b[theme].background), `${a.name}/${b.name} ${theme}`).toBeGreaterThan(10),
        ),
      )
    }
  })
})
