"""Usernames that look alike: their TR39 skeletons are equal.

Unicode's Technical Standard #39 maps every character to the prototype it can
be mistaken for (Cyrillic а to Latin a, 0 to O, 1 and I to l, rn to m), and
the skeleton of a string is its characters so mapped. ICU implements it (its
SpoofChecker); pyicu-wheels brings ICU inside the wheel, so the skeleton is
the same on every machine and does not change with the system's ICU.

Usernames are unique regardless of case, so the skeleton is of the NFKC,
case-folded name, and case-folded again (a prototype may be a capital: O),
until it stops changing. It is a key, never shown.
"""

import unicodedata
from functools import cache

import icu

# A skeleton of a skeleton settles at once in practice; the bound only makes
# sure a surprise in the data cannot loop.
_MAX_ROUNDS = 4


@cache
def _checker() -> icu.SpoofChecker:
    # ICU documents a checker's tests as safe to call from several threads at once.
    return icu.SpoofChecker()


def username_skeleton(username: str) -> str:
    text = unicodedata.normalize("NFKC", username).casefold()
    for _ in range(_MAX_ROUNDS):
        # getSkeleton's first argument is deprecated and must be 0.
        skeleton = _checker().getSkeleton(0, text).casefold()
        if skeleton == text:
            break
        text = skeleton
    return text
