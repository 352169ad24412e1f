"""Freight container numbers (ISO 6346).

A container number is a three-letter owner code registered with the BIC, an equipment
category letter (``U`` freight container, ``J`` detachable equipment, ``Z`` trailer or
chassis), a six-digit serial number and a check digit, e.g. ``CSQU 305438 3``. Bills of
lading list the containers a consignment travelled in; a container seen on two bills
ties them together, so only numbers whose check digit is right are accepted.
"""

import re
import unicodedata

from tidetrace.ids.common import MAX_INPUT, Decoded, IdentifierFormat

__all__ = ["CATEGORIES", "ContainerNumber", "check_digit"]

CATEGORIES = {"U": "freight container", "J": "detachable equipment", "Z": "trailer or chassis"}
# ISO 6346 letter values start at A=10 and skip multiples of 11 (11, 22, 33): the string
# below puts each character at its value, with "?" standing in for the skipped numbers.
# The SQL form of the check in tidetrace/shipments/expressions.py uses the same string.
VALUES = "0123456789A?BCDEFGHIJK?LMNOPQRSTU?VWXYZ"
_SHAPE = re.compile(r"^([A-Z]{3})([UJZ])(\d{6})(\d)$")
# People write "CSQU 305438-3", "CSQU-3054383" or "csqu3054383"; nothing else is removed.
_SEPARATORS = re.compile(r"[\s\-./]")


def check_digit(prefix: str) -> int:
    """The ISO 6346 check digit of the first ten characters (owner, category, serial).

    Args:
        prefix: ten characters, e.g. ``CSQU305438``.

    Returns:
        The digit 0-9 (a remainder of 10 counts as 0, as the standard says).

    Raises:
        ValueError: when ``prefix`` is not ten characters of A-Z and 0-9.
    """
    if len(prefix) != 10 or not prefix.isascii() or not prefix.isalnum():
        raise ValueError(f"not a container number prefix: {prefix!r}")
    total = sum(VALUES.index(char) * (1 << pos) for pos, char in enumerate(prefix.upper()))
    return total % 11 % 10


class ContainerNumber(IdentifierFormat):
    """An ISO 6346 container number, e.g. ``CSQU3054383``."""

    NAME = "container"
    TITLE = "Container number (ISO 6346)"
    STRONG = True

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The eleven characters without separators, or None when invalid.

        Args:
            value: a container number, with or without spaces, dashes or dots.

        Returns:
            e.g. ``CSQU3054383``; None when the shape or the check digit is wrong.
        """
        if len(value) > MAX_INPUT:
            return None
        text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()
        match = _SHAPE.match(text)
        if match is None:
            return None
        if check_digit(text[:10]) != int(match.group(4)):
            return None
        return text

    @classmethod
    def format(cls, value: str) -> str:
        """The printed form ``CSQU 305438 3``; ``value`` unchanged when invalid."""
        norm = cls.normalize(value)
        if norm is None:
            return value
        return f"{norm[:4]} {norm[4:10]} {norm[10]}"

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """Owner code, equipment category, serial number and check digit."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        parts = {
            "owner": norm[:3],
            "category": CATEGORIES[norm[3]],
            "serial": norm[4:10],
            "check_digit": norm[10],
        }
        return Decoded(scheme=cls.NAME, value=norm, parts=parts)
