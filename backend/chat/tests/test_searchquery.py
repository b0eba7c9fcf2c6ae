"""The search query language (chat/searchquery.py): a pure function."""

import pytest

from chat.searchquery import EmptyQuery, SearchTerms, fts5_match, parse_query


@pytest.mark.parametrize(
    "query, terms",
    [
        ("deploy", SearchTerms(words=("deploy",))),
        ("  Deploy   the  Server ", SearchTerms(words=("Deploy", "the", "Server"))),
        ('"staging server"', SearchTerms(phrases=("staging server",))),
        ('deploy "staging   server" now', SearchTerms(words=("deploy", "now"), phrases=("staging server",))),
        # A phrase left open runs to the end; a quote inside a word starts one.
        ('"staging server', SearchTerms(phrases=("staging server",))),
        ('ab"cd ef"', SearchTerms(words=("ab",), phrases=("cd ef",))),
        ("from:alice", SearchTerms(authors=("alice",))),
        ("FROM:@alice From:bob", SearchTerms(authors=("alice", "bob"))),
        ("in:General in:#ops in:general", SearchTerms(rooms=("general", "ops"))),
        ("deploy from:alice in:ops", SearchTerms(words=("deploy",), authors=("alice",), rooms=("ops",))),
        # An operator without a value is a word; so is one of another name.
        ("from: to:bob", SearchTerms(words=("from:", "to:bob"))),
        # Punctuation alone is nothing to look for; words keep theirs (the engines drop it).
        ("!!! -- deploy? e-mail", SearchTerms(words=("deploy?", "e-mail"))),
        ('"" "!!" café', SearchTerms(words=("café",))),
    ],
)
def test_parse_query(query, terms):
    assert parse_query(query) == terms


@pytest.mark.parametrize("query", ["", "   ", '""', '" "', "!!! ?", "_ __", '"--"'])
def test_nothing_to_look_for_is_an_empty_query(query):
    with pytest.raises(EmptyQuery):
        parse_query(query)


def test_operators_alone_are_a_query():
    assert parse_query("from:alice").has_text is False
    assert parse_query("in:ops").rooms == ("ops",)


def test_fts5_match_quotes_every_word_and_phrase():
    terms = parse_query('deploy OR NOT* "say ""hi"" now" AND ab"c')
    assert fts5_match(terms) == '"deploy" "OR" "NOT*" "AND" "ab" "say" "hi" "now" "c"'
    assert fts5_match(SearchTerms(words=('x"y',))) == '"x""y"'
