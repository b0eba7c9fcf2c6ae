// Message bodies as the contract's Markdown subset: **bold**, *italic*,
// `code`, fenced code blocks, > quotes and http(s)/mailto links. markdown-it
// parses (raw HTML off, so `<img …>` stays text); its tokens become React
// elements here, never HTML strings, so nothing reaches the page but text,
// the handful of elements below, and links whose scheme was checked twice.
// A plain body renders as its own text, character for character.
// markdown-it (with its entity table, punycode and Unicode classes) is about
// as big as the rest of the app, so it is its own chunk, fetched from our
// origin the first time a body holds Markdown; until then such a body shows as
// its text.
import type { MarkdownIt, Token } from 'markdown-it'
import { Fragment, createElement, useSyncExternalStore, type ReactNode } from 'react'

let md: MarkdownIt | null = null
let loading: Promise<void> | null = null
const loaded = new Set<() => void>()

/** Fetches and sets up the parser once; resolves when bodies can be formatted. */
export function loadMarkdown(): Promise<void> {
  loading ??= import('markdown-it').then(({ default: markdownIt }) => {
    const parser = markdownIt('zero', { html: false, linkify: true })
      .enable(['blockquote', 'fence', 'backticks', 'emphasis', 'link', 'linkify'])
    // A bare `main.py` or `example.com` stays text: only links written with their scheme.
    parser.linkify.set({ fuzzyLink: false })
    parser.validateLink = (url) => safeHref(url) !== null
    md = parser
    for (const listener of [...loaded]) listener()
  })
  return loading
}

function subscribeLoaded(listener: () => void) {
  loaded.add(listener)
  return () => {
    loaded.delete(listener)
  }
}

/** Whether bodies can be formatted yet (re-renders once they can). */
export function useMarkdownReady(): boolean {
  return useSyncExternalStore(subscribeLoaded, () => md !== null, () => md !== null)
}

const SAFE_SCHEMES = new Set(['http:', 'https:', 'mailto:'])

/** Only http, https and mailto links become links. */
export function safeHref(href: string): string | null {
  try {
    const url = new URL(href)
    return SAFE_SCHEMES.has(url.protocol) ? url.href : null
  } catch {
    return null
  }
}

/** Characters without which a body has no Markdown (nor a link): it is shown as it is. */
const MARKUP = /[*_`>[\]:@]/

const MENTION = /(^|[^\w@])(@[\w.+-]+)/g

/** Text with each `@name` marked (the text itself unchanged). */
function textWithMentions(text: string, key: string): ReactNode {
  if (!text.includes('@')) return text
  const parts: ReactNode[] = []
  let last = 0
  for (const match of text.matchAll(MENTION)) {
    const start = match.index + match[1]!.length
    if (start > last) parts.push(text.slice(last, start))
    parts.push(<span key={`${key}-${start}`} className="mention">{match[2]}</span>)
    last = start + match[2]!.length
  }
  if (parts.length === 0) return text
  if (last < text.length) parts.push(text.slice(last))
  return <Fragment key={key}>{parts}</Fragment>
}

const INLINE_TAGS: Record<string, string> = { strong_open: 'strong', em_open: 'em', link_open: 'a' }

/** An inline token stream as elements: text, code, strong, em and checked links. */
function inline(tokens: readonly Token[], key: string): ReactNode[] {
  const root: ReactNode[] = []
  const stack: { tag: string; href: string | null; children: ReactNode[] }[] = []
  const out = () => stack[stack.length - 1]?.children ?? root
  tokens.forEach((token, i) => {
    const k = `${key}.${i}`
    if (token.type in INLINE_TAGS) {
      stack.push({ tag: INLINE_TAGS[token.type]!, href: token.type === 'link_open' ? safeHref(String(token.attrGet('href') ?? '')) : null, children: [] })
    } else if (token.type.endsWith('_close') && stack.length > 0) {
      const open = stack.pop()!
      let element: ReactNode
      if (open.tag !== 'a') element = createElement(open.tag, { key: k }, ...open.children)
      else if (open.href === null) element = <Fragment key={k}>{open.children}</Fragment>
      else {
        element = (
          <a key={k} href={open.href} target="_blank" rel="noopener noreferrer">
            {open.children}
          </a>
        )
      }
      out().push(element)
    } else if (token.type === 'code_inline') {
      out().push(<code key={k}>{token.content}</code>)
    } else if (token.type === 'softbreak' || token.type === 'hardbreak') {
      out().push('\n')
    } else {
      // text, and anything unexpected: its text, never markup.
      out().push(textWithMentions(token.content, k))
    }
  })
  // Unbalanced (cannot happen with markdown-it's pairs): keep the text.
  while (stack.length > 0) root.push(...stack.pop()!.children)
  return root
}

/** Block tokens from `start` to their matching close, as elements; the source's blank lines kept between paragraphs. */
function blocks(tokens: readonly Token[], key: string): ReactNode[] {
  const out: ReactNode[] = []
  let previousEnd: number | null = null
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!
    const k = `${key}.${i}`
    const begin = token.map?.[0]
    if (token.type === 'paragraph_open') {
      const content = tokens[i + 1]
      // Paragraphs are inline runs; the newlines between them come from the source, so a plain body keeps its text.
      if (previousEnd !== null && begin !== undefined) out.push('\n'.repeat(Math.max(1, begin - previousEnd + 1)))
      out.push(<Fragment key={k}>{content?.type === 'inline' ? inline(content.children ?? [], k) : null}</Fragment>)
      previousEnd = token.map ? token.map[1] - 1 : null
      i += 2
    } else if (token.type === 'blockquote_open') {
      let depth = 1
      let j = i + 1
      for (; j < tokens.length && depth > 0; j++) {
        if (tokens[j]!.type === 'blockquote_open') depth++
        else if (tokens[j]!.type === 'blockquote_close') depth--
      }
      out.push(<blockquote key={k}>{blocks(tokens.slice(i + 1, j - 1), k)}</blockquote>)
      previousEnd = null
      i = j - 1
    } else if (token.type === 'fence' || token.type === 'code_block') {
      out.push(
        <pre key={k}>
          <code>{token.content.replace(/\n$/, '')}</code>
        </pre>,
      )
      previousEnd = null
    } else if (token.type === 'inline') {
      out.push(<Fragment key={k}>{inline(token.children ?? [], k)}</Fragment>)
    } else if (token.content) {
      out.push(token.content)
    }
  }
  return out
}

/** A message body as elements (or, with no Markdown in it or before the parser is here, as its own text). */
export function renderBody(body: string): ReactNode {
  if (!MARKUP.test(body)) return body
  if (md === null) {
    void loadMarkdown()
    return body
  }
  return blocks(md.parse(body, {}), 'b')
}
