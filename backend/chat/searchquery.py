"""The search query language, parsed (docs/protocol.md, "Search").

    deploy "staging server" from:alice in:ops

Words (every one must match), `"exact phrases"`, `from:USERNAME` and
`in:ROOM`. A pure function: chat/search.py turns its terms into PostgreSQL's
or SQLite's full-text query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A phrase runs from a double quote to the next one (or to the end, when the
# person forgot to close it); anything else between white space is a word or
# an operator. A double quote always starts a phrase, so a word holds none.
_TOKEN = re.compile(r'"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
_OPERATOR = re.compile(r"(?P<name>from|in):(?P<value>.+)", re.IGNORECASE)
# A word or phrase with no letter or digit is nothing a full-text index holds
# (both engines drop punctuation), so it is left out rather than matching nothing.
_INDEXABLE = re.compile(r"[^\W_]")


class EmptyQuery(ValueError):
    """A query with no word, no phrase and no operator: `invalid_query`."""


@dataclass(frozen=True, slots=True)
class SearchTerms:
    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()  # from: any of these usernames
    rooms: tuple[str, ...] = ()  # in: any of these rooms

    @property
    def has_text(self) -> bool:
        return bool(self.words or self.phrases)


def parse_query(query: str) -> SearchTerms:
    """A query → its terms; EmptyQuery when nothing is left to look for."""
    words: list[str] = []
    phrases: list[str] = []
    authors: list[str] = []
    rooms: list[str] = []
    for token in _TOKEN.finditer(query):
        phrase, word = token.group("phrase"), token.group("word")
        if phrase is not None:
            phrase = " ".join(phrase.split())
            if _INDEXABLE.search(phrase):
                phrases.append(phrase)
            continue
        operator = _OPERATOR.fullmatch(word)
        if operator is not None:
            name, value = operator.group("name").lower(), operator.group("value")
            if name == "from":
                authors.append(value.removeprefix("@"))
            else:
                rooms.append(value.removeprefix("#").lower())
        elif _INDEXABLE.search(word):
            words.append(word)
    terms = SearchTerms(
        words=tuple(words), phrases=tuple(phrases), authors=tuple(authors), rooms=tuple(dict.fromkeys(rooms))
    )
    if not (terms.has_text or terms.authors or terms.rooms):
        raise EmptyQuery(query)
    return terms


def fts5_match(terms: SearchTerms) -> str:
    """SQLite FTS5's MATCH expression: each word and phrase a quoted string
    (so nothing in it reads as an FTS5 operator), all of them required."""
    quoted = ['"' + text.replace('"', '""') + '"' for text in (*terms.words, *terms.phrases)]
    return " ".join(quoted)
