"""Flags for the redaction review: names, places, dates and rare details in a quote.

Flagging over-reports on purpose (a flagged common word costs a reviewer a second; a missed
name can cost a life). A quote can only be exported once every flag left in the reviewed
text was kept deliberately, with a reason.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Flag", "find_flags"]

DATA = Path(__file__).parent / "data" / "redaction.yml"

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
_DATE_PATTERNS = [
    re.compile(r"\b(?:19|20)\d{2}\b"),
    re.compile(r"\b\d{1,4}[./-]\d{1,2}(?:[./-]\d{1,4})?\b"),
    re.compile(r"\d+\s*(?:년|월|일|年|月|日|号)"),
    re.compile(r"[一二三四五六七八九十]+\s*(?:月|日|号)"),
    re.compile(r"(?:작년|재작년|올해|지난해|설날|추석|去年|前年|今年|春节|中秋)"),
    re.compile(r"\b(?:" + "|".join(_MONTHS) + r")\b", re.IGNORECASE),
]
_NUMBER = re.compile(r"\d+")
_AGE = re.compile(r"\d+\s*(?:살|세|岁|years?\s+old)", re.IGNORECASE)
_SUFFIXES = set("省市县区镇村港시군구도")
_ZH_PLACE = re.compile(r"[\u4e00-\u9fff]{1,4}(?:省|市|县|区|镇|村|港)")
_EN_PLACE = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:City|Province|County|District|Port))\b")
_EN_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+\s+[A-Z][a-z]+\b")


@dataclass(frozen=True)
class Flag:
    """Something in a quote that may identify someone.

    Attributes:
        kind: ``name``, ``place``, ``date`` or ``rare`` (a rare detail or a number).
        text: the flagged text.
        start: where it starts in the quote.
        end: one past where it ends.
    """

    kind: str
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """How a reviewer refers to it when keeping it: ``kind:text``."""
        return f"{self.kind}:{self.text}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kind": self.kind, "text": self.text, "start": self.start, "end": self.end}


@lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return loaded


def _literal_hits(text: str, words: list[str], kind: str) -> list[Flag]:
    out = []
    for word in sorted(set(words), key=len, reverse=True):
        if not word:
            continue
        flags = re.IGNORECASE if word.isascii() else 0
        pattern = rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word)
        for m in re.finditer(pattern, text, flags):
            out.append(Flag(kind, m.group(0), m.start(), m.end()))
    return out


def _names(text: str) -> list[Flag]:
    titles = _data()["name_titles"]
    out = []
    ko = "|".join(re.escape(t) for t in sorted(titles["ko"], key=len, reverse=True))
    for m in re.finditer(rf"([가-힣]{{2,4}})\s?(?:{ko})", text):
        out.append(Flag("name", m.group(0), m.start(), m.end()))
    zh = "|".join(re.escape(t) for t in sorted(titles["zh"], key=len, reverse=True))
    for m in re.finditer(rf"(?:[老小][\u4e00-\u9fff]|[\u4e00-\u9fff]{{1,3}})(?:{zh})", text):
        out.append(Flag("name", m.group(0), m.start(), m.end()))
    en = "|".join(re.escape(t) for t in titles["en"])
    for m in re.finditer(rf"\b(?:{en})\.?\s+[A-Z][a-z]+", text, re.IGNORECASE):
        out.append(Flag("name", m.group(0), m.start(), m.end()))
    for m in _EN_NAME.finditer(text):
        out.append(Flag("name", m.group(0), m.start(), m.end()))
    return out


def find_flags(text: str, extra_places: list[str] | None = None) -> list[Flag]:
    """Every span of ``text`` a reviewer must look at, in reading order, without repeats.

    Args:
        text: the quote (any of Korean, Chinese, English).
        extra_places: further names to flag as places (the case's facilities).
    """
    data = _data()
    places = [p for group in data["places"] for p in group] + list(extra_places or [])
    flags = _names(text)
    known = _literal_hits(text, places, "place")
    # A known place with its administrative suffix (丹东市, 단둥시) is flagged whole too.
    for f in list(known):
        if f.end < len(text) and text[f.end] in _SUFFIXES:
            known.append(Flag("place", text[f.start : f.end + 1], f.start, f.end + 1))
    flags += known
    flags += [Flag("place", m.group(0), m.start(), m.end()) for m in _ZH_PLACE.finditer(text)]
    flags += [Flag("place", m.group(0), m.start(), m.end()) for m in _EN_PLACE.finditer(text)]
    for pattern in _DATE_PATTERNS:
        flags += [Flag("date", m.group(0), m.start(), m.end()) for m in pattern.finditer(text)]
    rare = [w for lang in data["rare_details"].values() for w in lang]
    flags += _literal_hits(text, rare, "rare")
    flags += [Flag("rare", m.group(0), m.start(), m.end()) for m in _AGE.finditer(text)]
    covered = [(f.start, f.end) for f in flags]
    for m in _NUMBER.finditer(text):
        if not any(s <= m.start() and m.end() <= e for s, e in covered):
            flags.append(Flag("rare", m.group(0), m.start(), m.end()))
    unique: dict[tuple[int, int, str], Flag] = {}
    for f in flags:
        unique.setdefault((f.start, f.end, f.kind), f)
    return sorted(unique.values(), key=lambda f: (f.start, -f.end, f.kind))
