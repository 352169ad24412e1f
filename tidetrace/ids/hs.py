"""Harmonized System (HS) commodity codes, as written on bills of lading and customs records.

An HS code is six digits shared by every customs administration (chapter, heading,
subheading: ``03`` ``0307`` ``030743`` is frozen cuttlefish and squid); countries add two to
four digits of their own (US HTS: ten, China: ten, EU CN: eight). Manifests write them
``0307.43``, ``0307.43.0050`` or ``0307430050``. Seafood is chapter 03 (fish, crustaceans,
molluscs) plus headings 1604 (prepared fish) and 1605 (prepared crustaceans and molluscs).

Descriptions come from the HS 2022 nomenclature bundled in
``tidetrace/shipments/data/hs.csv`` (every chapter and heading, and the six-digit codes of the
seafood headings; WCO / UN Comtrade, ODC-PDDL-1.0).
"""

import csv
import re
import unicodedata
from functools import cache
from pathlib import Path

from tidetrace.ids.common import MAX_INPUT, Decoded, IdentifierFormat

__all__ = ["HS_DATA", "SEAFOOD_HEADINGS", "HSCode", "describe", "is_seafood"]

HS_DATA = Path(__file__).resolve().parent.parent / "shipments" / "data" / "hs.csv"
SEAFOOD_CHAPTERS = frozenset({"03"})
SEAFOOD_HEADINGS = frozenset({"1604", "1605"})
# Dots, spaces and dashes are how codes are grouped in print; anything else is not a code.
_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"^\d{6,10}$")


@cache
def _descriptions() -> dict[str, str]:
    with open(HS_DATA, encoding="utf-8", newline="") as fh:
        return {row["hscode"]: row["description"] for row in csv.DictReader(fh)}


def _chapters() -> frozenset[str]:
    return frozenset(code for code in _descriptions() if len(code) == 2)


def is_seafood(code: str) -> bool:
    """True when a normalised code is in chapter 03 or headings 1604/1605."""
    return code[:2] in SEAFOOD_CHAPTERS or code[:4] in SEAFOOD_HEADINGS


def describe(code: str) -> str | None:
    """The most specific HS 2022 description known for a normalised code (6, 4 or 2 digits)."""
    table = _descriptions()
    for length in (6, 4, 2):
        text = table.get(code[:length])
        if text is not None:
            return text
    return None


class HSCode(IdentifierFormat):
    """An HS commodity code of six to ten digits, e.g. ``030743`` or ``0307430050``."""

    NAME = "hs"
    TITLE = "Harmonized System code"
    STRONG = False

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The digits of the code, or None when it is not one.

        A five-digit value is refused, not padded: it is usually a chapter 01-09 code whose
        leading zero a spreadsheet dropped, but guessing would put a wrong code beside a
        right one without a trace.

        Args:
            value: the code as written, e.g. ``0307.43.0050`` or ``HS 030743``.

        Returns:
            Six to ten digits in a chapter of the nomenclature; None otherwise.
        """
        if len(value) > MAX_INPUT:
            return None
        text = unicodedata.normalize("NFKC", value).upper().strip()
        text = text.removeprefix("HS").removeprefix("CODE").lstrip(" :#")
        digits = _SEPARATORS.sub("", text)
        if not _DIGITS.match(digits):
            return None
        if digits[:2] not in _chapters():
            return None
        return digits

    @classmethod
    def format(cls, value: str) -> str:
        """Dotted form: ``0307.43``, ``0307.43.00``, ``0307.43.0050``."""
        norm = cls.normalize(value)
        if norm is None:
            return value
        head = f"{norm[:4]}.{norm[4:6]}"
        return f"{head}.{norm[6:]}" if len(norm) > 6 else head

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """Chapter, heading, subheading, description and whether it is seafood."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        parts = {
            "chapter": norm[:2],
            "heading": norm[:4],
            "subheading": norm[:6],
            "seafood": "true" if is_seafood(norm) else "false",
        }
        text = describe(norm)
        if text is not None:
            parts["description"] = text
        chapter_text = _descriptions().get(norm[:2])
        if chapter_text is not None:
            parts["chapter_description"] = chapter_text
        return Decoded(scheme=cls.NAME, value=norm, parts=parts)
