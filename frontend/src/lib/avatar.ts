// A person's avatar colour, from their user id: the same in every room and on
// every device, and different for ids next to each other (people who signed up
// one after the other). Each entry is one hue in two shades, a deep one under a
// white letter for the light theme and a pale one under a near-black letter for
// the dark theme, both above WCAG AA's 4.5:1 for the letter (avatar.test.ts).

export interface AvatarShade {
  background: string
  letter: string
}

export interface AvatarColour {
  name: string
  light: AvatarShade
  dark: AvatarShade
}

const LIGHT_LETTER = '#ffffff'
const DARK_LETTER = '#10121a'

// In hue order; AVATAR_STRIDE walks it so neighbouring ids land far apart.
const HUES: [name: string, light: string, dark: string][] = [
  ['red', '#c62828', '#ff8a80'],
  ['orange', '#a84300', '#fdba74'],
  ['amber', '#8a5a00', '#fcd34d'],
  ['lime', '#4d7c0f', '#bef264'],
  ['green', '#1b7a3d', '#86efac'],
  ['teal', '#0f766e', '#5eead4'],
  ['cyan', '#0e7490', '#67e8f9'],
  ['blue', '#1d4ed8', '#93c5fd'],
  ['indigo', '#4338ca', '#a5b4fc'],
  ['purple', '#7e22ce', '#d8b4fe'],
  ['magenta', '#a21caf', '#f0abfc'],
  ['rose', '#be123c', '#fda4af'],
]

export const AVATAR_PALETTE: readonly AvatarColour[] = HUES.map(([name, light, dark]) => ({
  name,
  light: { background: light, letter: LIGHT_LETTER },
  dark: { background: dark, letter: DARK_LETTER },
}))

// Coprime with the palette's 12: any 12 consecutive ids get 12 different
// colours, and id and id + 1 are 5 hues (about 150°) apart.
export const AVATAR_STRIDE = 5

export function avatarColour(userId: number): AvatarColour {
  const size = AVATAR_PALETTE.length
  const index = (((Math.trunc(userId) * AVATAR_STRIDE) % size) + size) % size
  // In range by construction; the index type cannot say so.
  return AVATAR_PALETTE[index] as AvatarColour
}
