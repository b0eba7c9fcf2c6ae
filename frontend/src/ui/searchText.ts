// What a search result shows of its body: the words of the query marked. The
// server matches by stems (Snowball English); here a word is marked when it
// and a query word differ only by an ending, which is close enough to guide
// the eye. Pure functions, no DOM.

/** Case and accents do not matter, as on the server. */
function fold(word: string): string {
  return word.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
}

const WORD = /[\p{L}\p{N}]+/gu

/** The words of a query, folded: words and phrases, not `from:` or `in:` operators. */
export function queryWords(query: string): string[] {
  const words: string[] = []
  // A `"` always starts or ends a phrase; operators are read outside phrases only.
  query.split('"').forEach((part, index) => {
    const inPhrase = index % 2 === 1
    for (const term of part.split(/\s+/)) {
      if (!inPhrase && /^(from|in):./i.test(term)) continue
      for (const word of term.match(WORD) ?? []) words.push(fold(word))
    }
  })
  return [...new Set(words)]
}

/** The longest ending the English stemmer takes off (-ation, -ness, -ing, ...), give or take. */
const ENDING = 4

function sameStem(word: string, term: string): boolean {
  let common = 0
  while (common < word.length && common < term.length && word[common] === term[common]) common++
  if (common === word.length && common === term.length) return true
  return common >= 3 && word.length - common <= ENDING && term.length - common <= ENDING && common >= Math.min(word.length, term.length) - 2
}

export interface Piece {
  text: string
  match: boolean
}

/** The body cut into pieces, those that match a query word marked. */
export function markMatches(body: string, words: readonly string[]): Piece[] {
  if (words.length === 0) return [{ text: body, match: false }]
  const pieces: Piece[] = []
  let at = 0
  for (const found of body.matchAll(WORD)) {
    const word = fold(found[0])
    if (!words.some((term) => sameStem(word, term))) continue
    if (found.index > at) pieces.push({ text: body.slice(at, found.index), match: false })
    pieces.push({ text: found[0], match: true })
    at = found.index + found[0].length
  }
  if (at < body.length) pieces.push({ text: body.slice(at), match: false })
  return pieces
}
