import type { CSSProperties } from 'react'
import { avatarColour, type User } from '../lib'

/** The initial on the colour of the user's id, so people are told apart at a glance. */
export function Avatar({ user }: { user: User }) {
  const { light, dark } = avatarColour(user.id)
  const colours = {
    '--avatar-bg': light.background,
    '--avatar-fg': light.letter,
    '--avatar-bg-dark': dark.background,
    '--avatar-fg-dark': dark.letter,
  } as CSSProperties
  return (
    // The initial is drawn by CSS so it never joins the text of a message or a list item.
    <span className="avatar" aria-hidden="true" data-initial={user.username.slice(0, 1).toUpperCase()} style={colours} />
  )
}
