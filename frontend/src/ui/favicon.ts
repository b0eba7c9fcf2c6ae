// The tab's icon shows a dot while anything is unread, as the title shows (N).
// The page's own <link rel=icon> (a data: URI in Django's page, CSP's img-src
// allows data:) is kept as the plain icon; the dotted one is the same drawing
// with a red dot in its corner.

/** Django's page icon (backend/web/templates/web/index.html) with an unread dot. */
export const DOTTED_ICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E" +
  "%3Crect width='32' height='32' rx='8' fill='%232563eb'/%3E%3Cpath d='M8 10h16v10H14l-4 4v-4H8z' fill='white'/%3E" +
  "%3Ccircle cx='25' cy='7' r='6.5' fill='%23dc2626' stroke='white' stroke-width='1.5'/%3E%3C/svg%3E"

let plainIcon: string | null = null

/** Shows the dot (or the plain icon again) on the page's icon link. */
export function showUnreadDot(unread: boolean, doc: Document = document): void {
  const link = doc.querySelector<HTMLLinkElement>('link[rel="icon"]')
  if (!link) return
  plainIcon ??= link.getAttribute('href')
  const href = unread ? DOTTED_ICON : plainIcon
  if (href !== null && link.getAttribute('href') !== href) link.setAttribute('href', href)
  link.toggleAttribute('data-unread', unread)
}
