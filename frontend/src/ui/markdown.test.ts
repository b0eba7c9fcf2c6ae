import { renderToStaticMarkup } from 'react-dom/server'
import { createElement } from 'react'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadMarkdown, renderBody, safeHref } from './markdown'

beforeAll(loadMarkdown)

const html = (body: string) => renderToStaticMarkup(createElement('div', null, renderBody(body)))
/** The text a person (and a test looking for text) sees: every tag taken out, entities read back. */
const text = (markup: string) =>
  markup.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#x27;/g, "'").replace(/&amp;/g, '&')

describe('the Markdown subset', () => {
  it('renders bold, italic, code, fenced blocks and quotes', () => {
    expect(html('**bold** and *it* and `x < y`')).toBe('<div><strong>bold</strong> and <em>it</em> and <code>x &lt; y</code></div>')
    expect(html('```\nconst a = 1\n```')).toBe('<div><pre><code>const a = 1</code></pre></div>')
    expect(html('> quoted\n\nreply')).toBe('<div><blockquote>quoted</blockquote>reply</div>')
  })

  it('makes http(s) and mailto links that open in a new tab without opener or referrer', () => {
    expect(html('see https://example.com/a?b=1 now')).toBe(
      '<div>see <a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">https://example.com/a?b=1</a> now</div>',
    )
    expect(html('[docs](http://example.org)')).toContain('<a href="http://example.org/" target="_blank" rel="noopener noreferrer">docs</a>')
    expect(html('mail me: mailto:a@example.com')).toContain('href="mailto:a@example.com"')
  })

  it('never makes a link of another scheme, nor of a bare file name', () => {
    for (const body of ['[x](javascript:alert(1))', 'javascript:alert(1)', '[x](data:text/html,hi)', '[x](vbscript:x)', 'main.py', '[x](file:///etc/passwd)']) {
      expect(html(body)).not.toContain('<a ')
    }
    expect(safeHref('JAVASCRIPT:alert(1)')).toBeNull()
    expect(safeHref('https://example.com')).toBe('https://example.com/')
  })

  it('keeps a plain body as its own text, line breaks and blank lines included', () => {
    for (const body of ['hello', 'two\nlines', 'one\n\ntwo paragraphs', 'a: b', 'x_y_z and 2 * 3', 'snake_case_name']) {
      expect(text(html(body))).toBe(body)
    }
  })

  it('marks @mentions without changing the text', () => {
    expect(html('hi @bob and a@b')).toBe('<div>hi <span class="mention">@bob</span> and a@b</div>')
  })
})

// Payloads from the usual XSS lists: whatever the body, the only elements are
// the subset's, every attribute is one we set, and the text is what was typed.
const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<a href="javascript:alert(1)">x</a>',
  '<svg/onload=alert(1)>',
  '"><img src=x onerror=alert(1)>',
  '<iframe src="https://evil.example"></iframe>',
  '**<b onmouseover=alert(1)>x</b>**',
  '[click](javascript:alert(1))',
  '[click](  javascript:alert(1)  )',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '![img](https://example.com/x.png)',
  '<style>body{display:none}</style>',
  '`<img src=x onerror=alert(1)>`',
  '```html\n<script>alert(1)</script>\n```',
  '> <img src=x onerror=alert(1)>',
  'https://example.com/"onmouseover="alert(1)',
  '<http://example.com>',
  '&lt;img src=x&gt;',
  '[a](https://example.com "title onmouseover=alert(1)")',
]
const ALLOWED_TAGS = new Set(['div', 'strong', 'em', 'code', 'pre', 'blockquote', 'a', 'span'])

function* fuzzBodies(): Generator<string> {
  yield* PAYLOADS
  // Pairs of payloads around Markdown markers, deterministic.
  const markers = ['**', '*', '`', '> ', '[', '](', ')', '\n', '\n\n', '```\n', 'https://x.example/']
  let seed = 7
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  for (let i = 0; i < 500; i++) {
    let body = ''
    for (let j = 0; j < 5; j++) body += next(2) ? PAYLOADS[next(PAYLOADS.length)]! : markers[next(markers.length)]!
    yield body
  }
}

describe('HTML in a body', () => {
  it('shows as text and makes no element outside the subset, no handler, no unsafe link', () => {
    for (const body of fuzzBodies()) {
      const markup = html(body)
      for (const [, tag] of markup.matchAll(/<([a-z0-9]+)/gi)) expect(ALLOWED_TAGS, body).toContain(tag!.toLowerCase())
      for (const [, attr] of markup.matchAll(/\s([a-z-]+)="/gi)) expect(['href', 'target', 'rel', 'class'], body).toContain(attr)
      for (const [, href] of markup.matchAll(/href="([^"]*)"/g)) expect(href, body).toMatch(/^(https?|mailto):/)
      expect(markup).not.toMatch(/<(img|script|svg|iframe|style)/i)
    }
    // A fixed amount of work (about half a second alone), not a speed bound: beside
    // the backend and browser suites on two cores it once took over vitest's 5 s.
  }, 30_000)

  it('keeps the characters of an HTML payload on screen', () => {
    expect(text(html('<img src=x onerror=alert(1)>'))).toBe('<img src=x onerror=alert(1)>')
    expect(text(html('<script>alert(1)</script>'))).toBe('<script>alert(1)</script>')
  })
})
