"""Search tokens for names, the same on the way in (indexing) and on the way out (queries).

Latin-script names become lower-case ASCII words; Han, Hangul and kana characters each
become a token of their own, so a query in any script finds names written in it. The
entity-resolution name pipeline does the cross-script work; this is plain search.
"""

import re
import unicodedata

from normality import ascii_text

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TOKEN = 64


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF  # Han extension A
        or 0x4E00 <= code <= 0x9FFF  # Han
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # Han compatibility
    )


def name_tokens(text: str) -> set[str]:
    """Tokens of a name or query: ASCII words plus one token per CJK character."""
    text = unicodedata.normalize("NFKC", text).casefold()
    tokens: set[str] = set()
    latin: list[str] = []
    for word in _WORD.findall(text):
        cjk = [c for c in word if _is_cjk(c)]
        tokens.update(cjk)
        rest = "".join(" " if _is_cjk(c) else c for c in word)
        latin.extend(rest.split())
    for word in latin:
        folded = ascii_text(word) or ""
        for part in _WORD.findall(folded.lower()):
            tokens.add(part[:MAX_TOKEN])
    return {t for t in tokens if t}


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")
_SCHEME_PREFIX = re.compile(r"^[A-Z]{2,4}(?=[0-9])")


def identifier_tokens(value: str) -> set[str]:
    """Tokens for an identifier, without punctuation: ``IMO 8660313`` and ``8660313`` meet.

    An identifier token is prefixed ``id:`` so it never collides with a name word.
    """
    compact = _NOT_ALNUM.sub("", ascii_text(value) or "").upper()[:MAX_TOKEN]
    if len(compact) < 4:
        return set()
    tokens = {f"id:{compact}"}
    bare = _SCHEME_PREFIX.sub("", compact)
    if bare != compact and len(bare) >= 4:
        tokens.add(f"id:{bare}")
    return tokens
