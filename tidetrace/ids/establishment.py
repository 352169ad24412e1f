"""Establishment (approval) codes: the numbers stamped on packs of exported food.

China registers every plant that exports food under a number of the form ``NNNN/NNNNN``:
a four-digit inspection-region code, a slash and a five-digit serial, e.g. ``2100/02153``.
The first two digits name the province (``21`` Liaoning, ``37`` Shandong …; the table is
``provinces.yml``). On a pack the number appears inside the oval EU identification mark
(``CN 2100/02153 EC``) or in box print (``CHINA 2100/02153``, ``CN-2100/02153``); all these
forms normalise to the bare ``2100/02153``.

Other countries' approval numbers have no shared syntax, so :class:`ApprovalNumber` only
folds case and separators. OCR output is repaired by :func:`repair`, and only into codes
that the caller says exist.
"""

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from tidetrace.ids.common import MAX_INPUT, Decoded, IdentifierFormat

__all__ = [
    "ApprovalNumber",
    "EstablishmentCode",
    "Province",
    "Repair",
    "extract",
    "province_for",
    "provinces",
    "repair",
    "split_mark",
]

PROVINCES_FILE = Path(__file__).with_name("provinces.yml")

# Country words a Chinese code is printed with, and the suffixes of the EU mark.
_COUNTRY = r"(?:CN|CHN|CHINA|P\.?\s?R\.?\s?(?:OF\s)?CHINA|PRC)"
_SUFFIX = r"(?:EC|EU|CE)"
_BARE = re.compile(r"^(\d{4})/(\d{5})$")
_VARIANT = re.compile(
    rf"^(?:{_COUNTRY}\s*[-:.]?\s*)?(\d{{4}})\s*/\s*(\d{{5}})(?:\s*[-.]?\s*{_SUFFIX})?$"
)
# A code inside free text: not glued to other digits on either side.
_IN_TEXT = re.compile(r"(?<![0-9])(\d{4})\s?/\s?(\d{5})(?![0-9])")


@dataclass(frozen=True)
class Province:
    """A province named by the first two digits of a code."""

    prefix: str
    en: str
    zh: str


@cache
def provinces() -> dict[str, Province]:
    """The province table, keyed by two-digit prefix (read once from ``provinces.yml``)."""
    with open(PROVINCES_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {
        str(prefix): Province(prefix=str(prefix), en=row["en"], zh=row["zh"])
        for prefix, row in data.items()
    }


def province_for(code: str) -> Province | None:
    """The province of a normalised code, or None when the prefix is not in the table."""
    return provinces().get(code[:2])


def _clean(value: str) -> str | None:
    """NFKC (full-width digits and slashes become ASCII), upper case, trimmed.

    None when too long or when it holds a control character: codes are typed or read
    on one line, so a newline, tab or NUL means the input is not a code.
    """
    if len(value) > MAX_INPUT:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in value):
        return None
    text = unicodedata.normalize("NFKC", value).upper().strip()
    return re.sub(r"\s+", " ", text)


class EstablishmentCode(IdentifierFormat):
    """A Chinese export food enterprise registration number, e.g. ``2100/02153``.

    Accepts the bare number and the forms it is printed in: ``CN 2100/02153``,
    ``CN-2100/02153``, ``CHINA 2100/02153 EC``, ``2100 / 02153``, full-width characters.
    The province prefix must be in the province table and the serial must not be zero.
    A number without its slash is not accepted here: that is an OCR repair, made only
    against a registry (see :func:`repair`).
    """

    NAME = "cn_establishment"
    TITLE = "China export food establishment registration number"
    STRONG = True

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The bare ``NNNN/NNNNN`` form, or None when ``value`` is not such a code.

        Args:
            value: the code as typed, printed or read.

        Returns:
            The normalised code, or None.
        """
        text = _clean(value)
        if text is None:
            return None
        match = _VARIANT.match(text)
        if match is None:
            return None
        code = f"{match.group(1)}/{match.group(2)}"
        return code if _plausible(code) else None

    @classmethod
    def format(cls, value: str) -> str:
        """The bare form (as registries publish it); ``value`` unchanged when invalid."""
        norm = cls.normalize(value)
        return norm if norm is not None else value

    @classmethod
    def mark(cls, value: str, suffix: str = "EC") -> str:
        """The code as the oval identification mark prints it, e.g. ``CN 2100/02153 EC``.

        Raises:
            ValueError: when ``value`` is not a valid code.
        """
        norm = cls.normalize(value)
        if norm is None:
            raise ValueError(f"not an establishment code: {value!r}")
        return f"CN {norm} {suffix}".strip()

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """Scheme, country, province, region and serial of a valid code; None otherwise."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        province = province_for(norm)
        assert province is not None  # normalize() checked the prefix
        return Decoded(
            scheme=cls.NAME,
            value=norm,
            parts={
                "country": "CN",
                "province": province.en,
                "province_zh": province.zh,
                "region": norm[:4],
                "serial": norm[5:],
            },
        )


def _plausible(code: str) -> bool:
    return _BARE.match(code) is not None and code[:2] in provinces() and code[5:] != "00000"


class ApprovalNumber(IdentifierFormat):
    """Another country's establishment approval number, e.g. Viet Nam's ``DL 123``.

    There is no common syntax, so normalising only folds what varies between prints of
    the same number: case, spaces, hyphens and dots (``dl-123`` and ``DL 123`` are both
    ``DL123``). Slashes and brackets stay: they separate parts. At least one digit is
    required and at most 64 characters.
    """

    NAME = "approval"
    TITLE = "Establishment approval number"
    STRONG = False

    _ALLOWED = re.compile(r"^[A-Z0-9 /.\-()]+$")

    @classmethod
    def normalize(cls, value: str) -> str | None:
        """The compact upper-case form, or None when ``value`` cannot be an approval number."""
        text = _clean(value)
        if text is None or not text or len(text) > 64:
            return None
        if cls._ALLOWED.match(text) is None or not any(c.isdigit() for c in text):
            return None
        compact = re.sub(r"[\s.\-]+", "", text)
        compact = re.sub(r"\s*/\s*", "/", compact)
        return compact or None

    @classmethod
    def decode(cls, value: str) -> Decoded | None:
        """The scheme and compact value; the number itself says nothing more."""
        norm = cls.normalize(value)
        if norm is None:
            return None
        return Decoded(scheme=cls.NAME, value=norm)


def split_mark(value: str) -> tuple[str | None, str]:
    """Split an identification mark into country and number: ``VN DL 123 EC`` → ``VN``, ``DL 123``.

    Only a leading two-letter word followed by a space or hyphen counts as a country, and
    only when the rest still contains a digit; a trailing ``EC``/``EU``/``CE`` is dropped.

    Returns:
        (ISO country code or None, the rest).
    """
    text = _clean(value) or ""
    country: str | None = None
    match = re.match(r"^([A-Z]{2})[\s\-]+(.*)$", text)
    if match is not None and any(c.isdigit() for c in match.group(2)):
        country, text = match.group(1), match.group(2)
    text = re.sub(rf"[\s\-.]+{_SUFFIX}$", "", text)
    return country, text


def extract(text: str) -> list[str]:
    """Every well-formed Chinese establishment code in free text, in order, without repeats."""
    clean = unicodedata.normalize("NFKC", text[: MAX_INPUT * 64])
    found: list[str] = []
    for match in _IN_TEXT.finditer(clean):
        code = f"{match.group(1)}/{match.group(2)}"
        if _plausible(code) and code not in found:
            found.append(code)
    return found


# Characters OCR confuses with digits, and the digit each one stands for.
CONFUSIONS: dict[str, str] = {
    "O": "0",
    "o": "0",
    "D": "0",
    "Q": "0",
    "I": "1",
    "l": "1",
    "i": "1",
    "|": "1",
    "!": "1",
    "S": "5",
    "s": "5",
    "B": "8",
    "Z": "2",
    "z": "2",
}
# What a slash can come back as from OCR.
SLASH_LIKE = frozenset("/|\\lI1!")


@dataclass(frozen=True)
class Repair:
    """A code that an OCR reading was repaired into, with what was changed.

    Attributes:
        code: the normalised code (it exists in the registry).
        changes: human-readable edits, e.g. ``["O→0", "slash restored"]``; empty when
            the reading was already the code.
    """

    code: str
    changes: tuple[str, ...]


def _digit_options(char: str) -> list[tuple[str, str | None]]:
    """Digits a read character may stand for, each with the change it implies."""
    if char.isdigit() and char.isascii():
        return [(char, None)]
    digit = CONFUSIONS.get(char)
    return [(digit, f"{char}→{digit}")] if digit is not None else []


def _readings(token: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Nine-digit readings of an OCR token, each with the edits that produced it."""
    squeezed = re.sub(r"\s+", "", token)
    shapes: list[tuple[str, str, tuple[str, ...]]] = []
    if len(squeezed) == 10 and squeezed[4] in SLASH_LIKE:
        note: tuple[str, ...] = () if squeezed[4] == "/" else (f"{squeezed[4]}→/",)
        shapes.append((squeezed[:4], squeezed[5:], note))
    if len(squeezed) == 9:
        shapes.append((squeezed[:4], squeezed[4:], ("slash restored",)))
    for head, tail, note in shapes:
        options = [_digit_options(c) for c in head + tail]
        if any(not opts for opts in options):
            continue
        for combo in itertools.product(*options):
            digits = "".join(d for d, _ in combo)
            changes = note + tuple(c for _, c in combo if c is not None)
            yield digits, changes


def repair(token: str, exists: Callable[[str], bool]) -> list[Repair]:
    """Codes an OCR token may be, kept only when ``exists`` confirms them.

    The token is first read as is; if that is a well-formed code that exists, it is the
    only answer. Otherwise letters OCR confuses with digits (O/0, I/l/1, S/5, B/8 …) and a
    slash read as ``1``/``l``/``|`` or lost altogether are repaired. A repaired code is
    never returned unless ``exists(code)`` is True, so a misreading cannot invent a plant.
    Digits misread as other digits are not repaired: that could land on another real
    plant; the lookup offers such near misses as suggestions instead.

    Args:
        token: OCR text thought to hold one code, e.g. ``"21OO/O2153"`` or ``"210002153"``.
        exists: whether a normalised code is in the registry.

    Returns:
        Repairs, fewest changes first; empty when nothing existing was found.
    """
    if len(token) > 40:
        return []
    direct = EstablishmentCode.normalize(token)
    if direct is not None:
        return [Repair(direct, ())] if exists(direct) else []
    found: dict[str, tuple[str, ...]] = {}
    for digits, changes in _readings(token):
        code = f"{digits[:4]}/{digits[4:]}"
        if not _plausible(code):
            continue
        if code in found and len(found[code]) <= len(changes):
            continue
        if exists(code):
            found[code] = changes
    return sorted(
        (Repair(c, ch) for c, ch in found.items()), key=lambda r: (len(r.changes), r.code)
    )
