"""The name pipeline's word lists, loaded once from the YAML files in ``resolve/data``.

Three kinds of entries: places (``places.yml``), concepts of the seafood trade
(``vocabulary.yml``) and legal forms (``legal_forms.yml``). Each entry has forms in Chinese,
Korean and Latin script; the pinyin of Chinese forms and the Revised Romanization of Korean
forms are derived here, so the YAML lists each word once per language.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from normality import ascii_text

from tidetrace.resolve.hangul import romanize

__all__ = [
    "DATA_DIR",
    "Entry",
    "EntryKind",
    "Lexicon",
    "latin_words",
    "lexicon",
    "pinyin_split",
    "pinyin_syllables",
    "pinyin_words",
]

DATA_DIR = Path(__file__).parent / "data"

EntryKind = Literal["place", "concept", "legal"]
# When two entries claim the same form, the more specific kind wins: "Korea" is a place
# before it is anything else, "company" a legal form before a word.
_PRIORITY: dict[str, int] = {"legal": 3, "place": 2, "concept": 1}


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry a form points to.

    Attributes:
        kind: place, concept or legal form.
        key: the token it becomes: a place key (``dandong``), ``@concept`` or ``#class``.
    """

    kind: EntryKind
    key: str


@dataclass
class Lexicon:
    """Forms by script, and what is known about places and concepts.

    Attributes:
        han: simplified Chinese forms.
        hangul: Korean forms.
        latin: Latin-script forms as word tuples (``("import", "and", "export")``).
        rigour_forms: rigour's legal-form compare forms mapped to our classes.
        within: for each place, the place that contains it.
        place_country: for each place, its country code.
        related: for each concept, the concepts translators use for it.
        country_places: places that are countries: they agree with any place in them.
        suffix_han: administrative suffixes that belong to a preceding Chinese place.
        suffix_hangul: the same for Korean.
        suffix_latin: the same in Latin script ("city", "shi").
    """

    han: dict[str, Entry] = field(default_factory=dict)
    hangul: dict[str, Entry] = field(default_factory=dict)
    latin: dict[tuple[str, ...], Entry] = field(default_factory=dict)
    rigour_forms: dict[str, str] = field(default_factory=dict)
    within: dict[str, str] = field(default_factory=dict)
    place_country: dict[str, str] = field(default_factory=dict)
    related: dict[str, frozenset[str]] = field(default_factory=dict)
    country_places: frozenset[str] = frozenset()
    suffix_han: frozenset[str] = frozenset()
    suffix_hangul: frozenset[str] = frozenset()
    suffix_latin: frozenset[str] = frozenset()

    @cached_property
    def han_max(self) -> int:
        """Length of the longest Chinese form."""
        return max((len(k) for k in self.han), default=1)

    @cached_property
    def hangul_max(self) -> int:
        """Length of the longest Korean form."""
        return max((len(k) for k in self.hangul), default=1)

    @cached_property
    def latin_max(self) -> int:
        """Words in the longest Latin-script form."""
        return max((len(k) for k in self.latin), default=1)

    @cached_property
    def phrase_sizes(self) -> dict[str, tuple[int, ...]]:
        """For each first word of a Latin form, the word counts of its forms, longest first
        (so a name's words are looked up only as phrases that exist)."""
        sizes: dict[str, set[int]] = {}
        for key in self.latin:
            sizes.setdefault(key[0], set()).add(len(key))
        return {word: tuple(sorted(s, reverse=True)) for word, s in sizes.items()}

    @cached_property
    def first_words(self) -> frozenset[str]:
        """First words (three letters or more) of Latin forms: what a glued word may end in."""
        return frozenset(k[0] for k in self.latin if len(k[0]) >= 3)

    def ancestors(self, place: str) -> set[str]:
        """The place and every place that contains it (Donggang → Dandong → Liaoning)."""
        out = {place}
        while place in self.within and self.within[place] not in out:
            place = self.within[place]
            out.add(place)
        return out

    def _put(self, table: dict[Any, Entry], form: Any, entry: Entry) -> None:
        old = table.get(form)
        if old is None or _PRIORITY[entry.kind] > _PRIORITY[old.kind]:
            table[form] = entry

    def add_han(self, forms: Iterable[str], entry: Entry) -> None:
        """Add Chinese forms, and their pinyin (joined and by syllable) as Latin forms."""
        for form in forms:
            self._put(self.han, form, entry)
            # A one-character word's pinyin ("chang" for 厂) is far more often a trade
            # name or surname than the word, so only longer forms yield Latin forms.
            if len(form) >= 2:
                syllables = tuple(pinyin_words(form))
                self._put(self.latin, ("".join(syllables),), entry)
                self._put(self.latin, syllables, entry)

    def add_hangul(self, forms: Iterable[str], entry: Entry) -> None:
        """Add Korean forms, and their Revised Romanization as a Latin form."""
        for form in forms:
            self._put(self.hangul, form, entry)
            if len(form) >= 2:
                self._put(self.latin, (romanize(form),), entry)

    def add_latin(self, forms: Iterable[str], entry: Entry) -> None:
        """Add Latin-script forms (lower case; a form of several words is a phrase)."""
        for form in forms:
            words = tuple(latin_words(form))
            if words:
                self._put(self.latin, words, entry)


_LATIN_WORD_RE = re.compile(r"[a-z0-9]+")


def latin_words(text: str) -> list[str]:
    """Lower-case ASCII words of Latin-script text.

    Apostrophes inside words are dropped, as in McCune-Reischauer spellings
    (``CH'O'NGSONG`` → ``chongsong``) and ``INT'L``; ``&`` becomes ``and``.
    """
    folded = ascii_text(text).lower()
    folded = folded.replace("&", " and ").replace("'", "").replace("`", "")
    # ascii_text leaves only ASCII, lower() only lower case: words are runs of [a-z0-9].
    return _LATIN_WORD_RE.findall(folded)


def pinyin_words(han: str) -> list[str]:
    """Toneless pinyin per character of ``han`` (ü written u), using phrase context."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(han, style=Style.NORMAL, v_to_u=True, errors="ignore")
    return [ascii_text(s).lower() for s in syllables if s]


@cache
def pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable pypinyin knows (about 400)."""
    from pypinyin import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    out: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = convert(reading, Style.NORMAL, strict=True)
            out.add(ascii_text(plain).lower())
    return frozenset(s for s in out if s.isalpha())


# One-letter syllables (啊, 额, 哦) almost never occur in firm names, and allowing them makes
# nearly any typo a "valid" syllable string (DAALIAN = da-a-lian).
_RARE_SYLLABLES = frozenset({"a", "e", "o", "n", "m", "ng", "hm", "hng", "r"})


@lru_cache(maxsize=200_000)
def pinyin_split(word: str) -> tuple[str, ...] | None:
    """Split a word into pinyin syllables, fewest first; None when it is not pinyin.

    ``zhongfeng`` → ``("zhong", "feng")``; ``fisheery`` → None.
    """
    syllables = pinyin_syllables()
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for i in range(n):
        current = best[i]
        if current is None:
            continue
        for j in range(i + 1, min(n, i + 6) + 1):
            piece = word[i:j]
            if piece in syllables and piece not in _RARE_SYLLABLES:
                candidate = (*current, piece)
                old = best[j]
                if old is None or len(candidate) < len(old):
                    best[j] = candidate
    return best[n]


def _load(name: str) -> dict[str, Any]:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping at the top level")
    return data


@cache
def lexicon() -> Lexicon:
    """The lexicon from the YAML files (loaded once per process)."""
    lex = Lexicon()
    places = _load("places.yml")
    for key, spec in places["places"].items():
        entry = Entry("place", key)
        lex.add_han(spec.get("zh", []), entry)
        lex.add_hangul(spec.get("ko", []), entry)
        lex.add_latin([key, *spec.get("en", [])], entry)
        if spec.get("within"):
            lex.within[key] = spec["within"]
        if spec.get("country"):
            lex.place_country[key] = spec["country"]
    lex.country_places = frozenset(places.get("countries", []))
    suffixes = places.get("suffixes", {})
    lex.suffix_han = frozenset(suffixes.get("zh", []))
    lex.suffix_hangul = frozenset(suffixes.get("ko", []))
    lex.suffix_latin = frozenset(suffixes.get("en", []))

    vocabulary = _load("vocabulary.yml")
    related: dict[str, set[str]] = {}
    for key, spec in vocabulary["concepts"].items():
        entry = Entry("concept", f"@{key}")
        lex.add_han(spec.get("zh", []), entry)
        lex.add_hangul(spec.get("ko", []), entry)
        lex.add_latin([key.replace("_", " "), *spec.get("en", [])], entry)
        for other in spec.get("related", []):
            # Relatedness goes both ways even when the YAML lists it once.
            related.setdefault(f"@{key}", set()).add(f"@{other}")
            related.setdefault(f"@{other}", set()).add(f"@{key}")
    lex.related = {k: frozenset(v) for k, v in related.items()}

    legal = _load("legal_forms.yml")
    for key, spec in legal["classes"].items():
        entry = Entry("legal", f"#{key}")
        lex.add_han(spec.get("zh", []), entry)
        lex.add_hangul(spec.get("ko", []), entry)
        lex.add_latin(spec.get("en", []), entry)
        for form in spec.get("rigour", []):
            lex.rigour_forms[form] = f"#{key}"
    return lex
