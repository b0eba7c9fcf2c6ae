import { describe, expect, it } from 'vitest'
import { markMatches, queryWords } from './searchText'

const marked = (body: string, query: string) =>
  markMatches(body, queryWords(query)).filter((p) => p.match).map((p) => p.text)

describe('queryWords', () => {
  it('keeps words and phrase words, folded, and leaves operators out', () => {
    expect(queryWords('from:bob in:#general Café "big Cats" e-mail')).toEqual(['cafe', 'big', 'cats', 'e', 'mail'])
  })

  it('reads from: inside a phrase as words', () => {
    expect(queryWords('"from:bob"')).toEqual(['from', 'bob'])
  })
})

describe('markMatches', () => {
  it('marks the words of the query whatever their case, accents and endings', () => {
    expect(marked('We CONNECTED to the café, connecting again', 'connect cafe')).toEqual(['CONNECTED', 'café', 'connecting'])
    expect(marked('the connection works', 'connecting')).toEqual(['connection'])
  })

  it('does not mark a longer different word that only starts the same', () => {
    expect(marked('a category of things', 'cat')).toEqual([])
  })

  it('keeps every character of the body, in order', () => {
    const body = 'Hello, <b>world</b>! hello'
    expect(markMatches(body, queryWords('hello')).map((p) => p.text).join('')).toBe(body)
    expect(markMatches(body, [])).toEqual([{ text: body, match: false }])
  })
})
