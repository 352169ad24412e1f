"""Cleaning one value at a time: party names, countries, ports, dates, units, vessels.

These functions run on *distinct* raw values (a plant's name appears on thousands of
bills, a date on every bill of that day), never once per row: the ingest engines collect
the distinct values of a chunk, clean the new ones here and join the results back (see
:data:`DICTIONARIES`). Values that are nearly unique per row (bill numbers, containers,
weights, HS codes) are cleaned in SQL instead (``expressions.py``). Running the same Python
code under both engines is what makes DuckDB and Spark give identical output.

Nothing here guesses silently: a value that cannot be read cleans to None and its raw
value stays beside it in the Parquet row.
"""

import csv
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from followthemoney.types import registry
from rigour.ids import IMO

__all__ = [
    "DICTIONARIES",
    "Dictionary",
    "Party",
    "clean_carrier",
    "clean_country",
    "clean_name",
    "clean_party",
    "clean_port",
    "clean_quantity_unit",
    "clean_vessel",
    "parse_date",
    "party_id",
    "party_schema",
    "warm_up",
    "weight_factor",
]

DATA_DIR = Path(__file__).parent / "data"

# ---------------------------------------------------------------------------- names

_APOSTROPHES = re.compile(r"['’`´‘]")
# A lone letter before a dot is an abbreviation: U.S.A. → USA, S.A. → SA (CO. stays CO).
_ABBREVIATION_DOT = re.compile(r"\b([^\W\d_])\.")
_NOT_WORD = re.compile(r"[^\w&]+|_+")
_AMPERSAND = re.compile(r"\s*&\s*")
# ASCII that is neither a word character nor "&" (upper case only: it runs after upper()).
_ASCII_NOT_WORD = {
    c: " " for c in range(128) if not (chr(c).isalnum() and not chr(c).islower()) and c != ord("&")
}
_ASCII_DIGIT = re.compile("[0-9]")


@lru_cache(maxsize=1 << 16)
def clean_name(raw: str) -> str:
    """A name in the form names are compared in: NFKC, upper case, no punctuation.

    Legal forms stay as written (``CO LTD``, ``COMPANY LIMITED``): telling them apart is
    entity resolution's job, not ingest's.

    Args:
        raw: the name as written, e.g. ``Dandong Hai-Qing Foodstuff Co.,Ltd.``.

    Returns:
        e.g. ``DANDONG HAI QING FOODSTUFF CO LTD``; "" when nothing is left.
    """
    if raw.isascii():
        # The same steps without the regexes that ASCII does not need (most names; a
        # third of a bill's cleaning time went here).
        text = raw.upper()
        if "'" in text or "`" in text:
            text = text.replace("'", "").replace("`", "")
        if "." in text:
            text = _ABBREVIATION_DOT.sub(r"\1", text)
        text = text.translate(_ASCII_NOT_WORD).replace("&", " & ")
        return " ".join(text.split()).strip(" &")
    text = unicodedata.normalize("NFKC", raw).upper()
    text = _APOSTROPHES.sub("", text)
    text = _ABBREVIATION_DOT.sub(r"\1", text)
    text = _NOT_WORD.sub(" ", text)
    text = _AMPERSAND.sub(" & ", text)
    return " ".join(text.split()).strip(" &")


@cache
def _words() -> dict[str, Any]:
    with open(DATA_DIR / "parties.yml", encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    latin = sorted((p for p in phrases if p.isascii()), key=len, reverse=True)
    other = sorted((p for p in phrases if not p.isascii()), key=len, reverse=True)
    parts = [r"\b(?:" + "|".join(re.escape(p) for p in latin) + r")\b"] if latin else []
    # Han and Hangul words have no word boundaries inside a name: match them anywhere.
    parts += [re.escape(p) for p in other]
    return re.compile("|".join(parts))


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    words = _words()
    prefix = {
        key: re.compile(r"^(?:" + "|".join(re.escape(p) for p in words[key]) + r")\b")
        for key in ("to_order", "same_as_other")
    }
    return {
        **prefix,
        "forwarder": _phrase_pattern(words["forwarder_words"] + words["forwarder_brands"]),
        "legal_form": _phrase_pattern(words["legal_forms"]),
    }


def party_status(raw: str, clean: str) -> str:
    """Whether a party field names a party, and if not, what it says instead.

    Args:
        raw: the field as written.
        clean: the same through :func:`clean_name`.

    Returns:
        ``named``, ``blank``, ``not_available``, ``to_order``, ``redacted`` or
        ``same_as_other``. Only ``named`` parties become entities.
    """
    words = _words()
    stripped = raw.strip()
    if not clean:
        return "redacted" if any(c in "*#" for c in stripped) else "blank"
    if clean in words["redacted"] or (len(clean) >= 3 and set(clean) <= {"X", " "}):
        return "redacted"
    if clean in words["not_available"]:
        return "not_available"
    patterns = _patterns()
    if clean == "ORDER" or patterns["to_order"].match(clean):
        return "to_order"
    if patterns["same_as_other"].match(clean):
        return "same_as_other"
    return "named"


def is_forwarder(clean: str) -> bool:
    """True when a cleaned name is a freight forwarder's or NVOCC's, not a trader's."""
    return bool(clean) and _patterns()["forwarder"].search(clean) is not None


def has_legal_form(clean: str) -> bool:
    """True when a cleaned name carries a company legal form (``LTD``, ``INC``, 有限公司 …)."""
    return _patterns()["legal_form"].search(clean) is not None


@cache
def _address_words() -> frozenset[str]:
    return frozenset(_words()["address_words"])


@cache
def _address_starts() -> frozenset[str]:
    """First words of the address words and phrases (``PO`` of ``PO BOX``)."""
    return frozenset(phrase.split()[0] for phrase in _words()["address_words"])


def split_folded_address(clean: str) -> tuple[str, str | None]:
    """Split an address typed into the name field off the name.

    ``DANDONG HAIQING FOOD CO LTD NO 18 BINJIANG RD`` → (``DANDONG HAIQING FOOD CO LTD``,
    ``NO 18 BINJIANG RD``). Only text after a legal form that starts like an address (a
    number or an address word) is split off; otherwise the name is returned whole.
    """
    address_words = _address_words()
    if (
        clean.isascii()
        and _ASCII_DIGIT.search(clean) is None
        and _address_starts().isdisjoint(clean.split())
    ):
        # Nothing in the name can start an address (no digit, no address word).
        return clean, None
    legal = _patterns()["legal_form"]
    cut: int | None = None
    for match in legal.finditer(clean):
        rest = clean[match.end() :].strip()
        if not rest:
            continue
        first = rest.split()[0]
        # Han/Hangul legal forms (有限公司) are followed directly by the address.
        starts_address = (
            any(ch.isdigit() for ch in first)
            or first in address_words
            or " ".join(rest.split()[:2]) in address_words
            or not match.group(0).isascii()
        )
        if starts_address and len(rest) >= 4:
            cut = match.end()
    if cut is None:
        return clean, None
    return clean[:cut].strip(), clean[cut:].strip()


# ------------------------------------------------------------------------ countries

# Last words of an address that look like a country name but are (also) US states.
_NOT_COUNTRIES = {"GEORGIA"}
_SHORT_COUNTRIES = {"USA", "PRC", "ROK", "DPRK", "UK", "UAE"}


@lru_cache(maxsize=1 << 16)
def clean_country(raw: str) -> str | None:
    """ISO 3166-1 alpha-2 (lower case, as FtM writes it) for a country name or code."""
    text = raw.strip()
    if not text:
        return None
    result: str | None = registry.country.clean(text)
    return result


@lru_cache(maxsize=1 << 14)
def infer_country(address: str) -> str | None:
    """The country an address ends with (``…, DALIAN, CHINA`` → ``cn``), else None.

    Only whole country names (or USA/PRC/UK …) at the end count: two-letter endings are
    usually states (``WA``, ``CA``) and are never read as countries.
    """
    segments = [s for s in re.split(r"[,\n;]", address) if s.strip()]
    candidates: list[str] = []
    if segments:
        candidates.append(clean_name(segments[-1]))
    words = clean_name(address).split()
    candidates += [" ".join(words[-n:]) for n in (3, 2, 1) if len(words) >= n]
    for candidate in candidates:
        if candidate in _NOT_COUNTRIES:
            continue
        if len(candidate) >= 4 or candidate in _SHORT_COUNTRIES:
            code = clean_country(candidate)
            if code is not None:
                return code
    return None


# -------------------------------------------------------------------------- parties


@dataclass(frozen=True)
class Party:
    """A cleaned party field.

    Attributes:
        name: cleaned name (no folded address); None unless named.
        address: cleaned address (or the one folded into the name).
        country: ISO alpha-2, given or read from the end of the address.
        status: see :func:`party_status`.
        is_forwarder: a forwarder/NVOCC name.
        id: the party entity id; None unless named.
    """

    name: str | None
    address: str | None
    country: str | None
    status: str
    is_forwarder: bool
    id: str | None


def party_id(name: str, country: str | None) -> str:
    """A stable entity id from a cleaned name and country: same name + country, same id."""
    key = f"{name}\x1f{country or ''}".encode()
    return "tt-party-" + hashlib.sha256(key).hexdigest()[:24]


def party_schema(name: str) -> str:
    """``Company`` when a cleaned name has a legal form, else ``LegalEntity``."""
    return "Company" if has_legal_form(name) else "LegalEntity"


def clean_party(name_raw: str, address_raw: str, country_raw: str) -> Party:
    """Clean one party (shipper, consignee or notify party) of a bill.

    Args:
        name_raw: the name field as written.
        address_raw: the address as written ("" when none).
        country_raw: the country as written ("" when none).
    """
    name = clean_name(name_raw)
    status = party_status(name_raw, name)
    address = clean_name(address_raw) or None
    if status == "named":
        name, folded = split_folded_address(name)
        if address is None:
            address = folded
    country = clean_country(country_raw)
    if country is None and status == "named":
        country = infer_country(address_raw) if address_raw.strip() else None
        if country is None and address is not None:
            country = infer_country(address)
    if status != "named":
        return Party(None, address, country, status, False, None)
    return Party(name, address, country, status, is_forwarder(name), party_id(name, country))


# ---------------------------------------------------------------------------- ports


@cache
def _port_table() -> dict[str, str]:
    table: dict[str, str] = {}
    with open(DATA_DIR / "ports.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            locode = row["locode"]
            table[locode] = locode
            table[f"{locode[:2]} {locode[2:]}"] = locode
            for alias in row["aliases"].split("|"):
                table[clean_name(alias)] = locode
            if row["schedule_d"]:
                table[row["schedule_d"]] = locode
    return table


@lru_cache(maxsize=1 << 16)
def clean_port(raw: str) -> str | None:
    """The port's UN/LOCODE when the bundled table knows it, else the cleaned name.

    Manifests write ``Shanghai ,China (Mainland)``, ``SEATTLE, WA``, ``CNSHA`` or a CBP
    Schedule D code (``2704``); the whole value is tried first, then its first
    comma-separated part.
    """
    if not raw.strip():
        return None
    table = _port_table()
    whole = clean_name(raw)
    if whole in table:
        return table[whole]
    first = clean_name(raw.split(",")[0])
    if first in table:
        return table[first]
    return whole or None


# ---------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("JAN", "JANUARY"),
            ("FEB", "FEBRUARY"),
            ("MAR", "MARCH"),
            ("APR", "APRIL"),
            ("MAY",),
            ("JUN", "JUNE"),
            ("JUL", "JULY"),
            ("AUG", "AUGUST"),
            ("SEP", "SEPT", "SEPTEMBER"),
            ("OCT", "OCTOBER"),
            ("NOV", "NOVEMBER"),
            ("DEC", "DECEMBER"),
        ],
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4}|\d{6})?$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})(?:[ T].*)?$")
_DAY_MONTH = re.compile(r"^(\d{1,2})[-/ .]?([A-Z]{3,9})[-/ .,]*(\d{4}|\d{2})(?: .*)?$")
_MONTH_DAY = re.compile(r"^([A-Z]{3,9})[-/ .]+(\d{1,2})(?:ST|ND|RD|TH)?[-/ .,]+(\d{4})(?: .*)?$")
MIN_YEAR = 1950
MAX_YEAR = 2100


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:
        return 2000 + value if value < 70 else 1900 + value
    return value


def _make(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_date(raw: str, order: str = "mdy") -> date | None:
    """Read a date as manifests and exports write it.

    ISO (``2023-05-01``, with or without time), compact (``20230501``), numeric
    (``05/01/2023``: ``order`` says which number is the month unless one is over 12), and
    with month names (``01-MAY-2023``, ``May 1, 2023``).

    Args:
        raw: the value.
        order: ``mdy``, ``dmy`` or ``ymd`` (how to read ``03/04/2023``).

    Returns:
        The date, or None when unreadable or outside 1950-2100.
    """
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    if not text:
        return None
    if match := _ISO.match(text):
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _COMPACT.match(text):
        return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _NUMERIC.match(text):
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        month, day = (second, first) if order == "dmy" else (first, second)
        if month > 12 >= day:
            month, day = day, month
        return _make(year, month, day)
    if match := _DAY_MONTH.match(text):
        month_num = _MONTHS.get(match.group(2))
        if month_num is None:
            return None
        return _make(_year(match.group(3)), month_num, int(match.group(1)))
    if match := _MONTH_DAY.match(text):
        month_num = _MONTHS.get(match.group(1).rstrip("."))
        if month_num is None:
            return None
        return _make(int(match.group(3)), month_num, int(match.group(2)))
    return None


# ---------------------------------------------------------------------------- units

POUND = 0.45359237
_WEIGHT_UNITS: dict[str, float] = {
    **dict.fromkeys(("KG", "KGS", "KGM", "K", "KILO", "KILOS", "KILOGRAM", "KILOGRAMS"), 1.0),
    **dict.fromkeys(("LB", "LBS", "L", "POUND", "POUNDS"), POUND),
    **dict.fromkeys(
        ("MT", "T", "TNE", "TONNE", "TONNES", "METRIC TON", "METRIC TONS", "MTS"), 1000.0
    ),
    **dict.fromkeys(("G", "GR", "GRM", "GRAM", "GRAMS"), 0.001),
}
# "TON" alone may be a US short ton (907 kg) or a tonne: it stays unconverted.
_QUANTITY_UNITS: dict[str, str] = {
    **dict.fromkeys(("CTN", "CTNS", "CARTON", "CARTONS", "CT", "CTS", "CNS"), "CTN"),
    **dict.fromkeys(("PCS", "PC", "PCE", "PIECE", "PIECES", "EA", "EACH"), "PCS"),
    **dict.fromkeys(("PKG", "PKGS", "PK", "PKS", "PCK", "PACKAGE", "PACKAGES", "PACKS"), "PKG"),
    **dict.fromkeys(("BAG", "BAGS", "BG", "BGS"), "BAG"),
    **dict.fromkeys(("BOX", "BOXES", "BX", "BXS"), "BOX"),
    **dict.fromkeys(("PLT", "PLTS", "PALLET", "PALLETS", "PL", "PLS"), "PLT"),
    **dict.fromkeys(("CAS", "CASE", "CASES", "CS", "CSE"), "CAS"),
    **dict.fromkeys(("DRM", "DRUM", "DRUMS", "DR"), "DRM"),
    **dict.fromkeys(("BLK", "BULK"), "BLK"),
    **dict.fromkeys(("CNT", "CONTAINER", "CONTAINERS", "CNTR", "CNTRS"), "CNT"),
    **dict.fromkeys(("BDL", "BUNDLE", "BUNDLES"), "BDL"),
}


@lru_cache(maxsize=1 << 12)
def weight_factor(unit: str) -> float | None:
    """Kilograms per unit (``LBS`` → 0.45359237); None when the unit is unknown or blank."""
    return _WEIGHT_UNITS.get(clean_name(unit))


@lru_cache(maxsize=1 << 12)
def clean_quantity_unit(unit: str) -> str | None:
    """A package unit code (``CARTONS`` → ``CTN``); unknown units cleaned but kept."""
    text = clean_name(unit)
    if not text:
        return None
    return _QUANTITY_UNITS.get(text, text)


# ------------------------------------------------------------------ vessels, carriers

_IMO_IN_NAME = re.compile(r"\bIMO\s*(?:NO\.?|NUMBER)?\s*[:#.]?\s*(\d{7})\b")
_VESSEL_PREFIX = re.compile(r"^(?:M\s*/\s*V|M\.\s*V\.?|MV|M\s*/\s*S|MS|SS|F\s*/\s*V|FV)\s+")


def clean_vessel(name_raw: str, imo_raw: str) -> tuple[str | None, str | None]:
    """Vessel name without ``M/V`` or an IMO number in it, and a checked IMO number.

    Args:
        name_raw: the vessel as written, e.g. ``M/V EVER GIVEN IMO 9811000``.
        imo_raw: an IMO column as written ("" when none).

    Returns:
        ``(name, imo)``: the IMO as ``rigour.ids.IMO`` normalises it (``IMO9811000``),
        None unless its check digit is right.
    """
    text = unicodedata.normalize("NFKC", name_raw).upper().strip()
    imo: str | None = IMO.normalize(imo_raw) if imo_raw.strip() else None
    found = _IMO_IN_NAME.search(text)
    if found is not None:
        if imo is None:
            imo = IMO.normalize(found.group(1))
        text = (text[: found.start()] + " " + text[found.end() :]).strip()
    text = _VESSEL_PREFIX.sub("", text)
    name = clean_name(text)
    return (name or None), imo


def clean_carrier(raw: str) -> str | None:
    """A carrier name or SCAC code, cleaned (``Maersk Line`` → ``MAERSK LINE``)."""
    return clean_name(raw) or None


# ---------------------------------------------------------------------- dictionaries


@dataclass(frozen=True)
class Dictionary:
    """A lookup from distinct raw values to cleaned ones, joined back onto every row.

    Attributes:
        name: the lookup's name (its table is ``d_<name>``).
        roles: each use of the lookup, as (label, key columns): the party lookup has three
            uses (shipper, consignee, notify) of the same three columns' kinds.
        outputs: the cleaned columns (name and Arrow type), in order. Use ``label`` of
            output ``out`` is joined on as column ``_<label>_<out>``.
        build: cleans a batch of keys; ``date_order`` is passed to those that need it.
    """

    name: str
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    outputs: tuple[tuple[str, pa.DataType], ...]
    build: Callable[[Sequence[tuple[str, ...]], str], list[tuple[Any, ...]]]

    @property
    def width(self) -> int:
        """Number of key columns."""
        return len(self.roles[0][1])

    def key_columns(self) -> list[str]:
        """Key column names in the lookup table: ``k0``, ``k1`` …"""
        return [f"k{i}" for i in range(self.width)]

    def arrow_schema(self) -> pa.Schema:
        """Schema of the lookup table: keys, then outputs."""
        keys = [pa.field(k, pa.string()) for k in self.key_columns()]
        return pa.schema(keys + [pa.field(n, t) for n, t in self.outputs])

    def columns(self, label: str) -> list[tuple[str, str, pa.DataType]]:
        """(output, joined column name, type) for one use of the lookup."""
        return [(out, f"_{label}_{out}", kind) for out, kind in self.outputs]


def _build_party(keys: Sequence[tuple[str, ...]], _order: str) -> list[tuple[Any, ...]]:
    out = []
    for name, address, country in keys:
        p = clean_party(name, address, country)
        out.append((p.name, p.address, p.country, p.status, p.is_forwarder, p.id))
    return out


def _build_one(fn: Callable[[str], Any]) -> Callable[[Sequence[tuple[str, ...]], str], list[Any]]:
    def build(keys: Sequence[tuple[str, ...]], _order: str) -> list[tuple[Any, ...]]:
        return [(fn(key[0]),) for key in keys]

    return build


def _build_date(keys: Sequence[tuple[str, ...]], order: str) -> list[tuple[Any, ...]]:
    return [(parse_date(key[0], order),) for key in keys]


def _build_vessel(keys: Sequence[tuple[str, ...]], _order: str) -> list[tuple[Any, ...]]:
    return [clean_vessel(name, imo) for name, imo in keys]


def _party_role(role: str) -> tuple[str, tuple[str, ...]]:
    return role, (f"{role}_name", f"{role}_address", f"{role}_country")


DICTIONARIES: tuple[Dictionary, ...] = (
    Dictionary(
        "party",
        (_party_role("shipper"), _party_role("consignee"), _party_role("notify")),
        (
            ("name", pa.string()),
            ("address", pa.string()),
            ("country", pa.string()),
            ("status", pa.string()),
            ("is_forwarder", pa.bool_()),
            ("id", pa.string()),
        ),
        _build_party,
    ),
    Dictionary(
        "country",
        (("origin", ("country_of_origin",)),),
        (("country", pa.string()),),
        _build_one(clean_country),
    ),
    Dictionary(
        "port",
        (("pol", ("port_of_lading",)), ("pod", ("port_of_unlading",))),
        (("port", pa.string()),),
        _build_one(clean_port),
    ),
    Dictionary(
        "date",
        (
            ("arrival", ("arrival_date",)),
            ("eta", ("estimated_arrival_date",)),
            ("departure", ("departure_date",)),
            ("filing", ("filing_date",)),
        ),
        (("day", pa.date32()),),
        _build_date,
    ),
    Dictionary(
        "weight_unit",
        (("weight", ("weight_unit_key",)),),
        (("factor", pa.float64()),),
        _build_one(weight_factor),
    ),
    Dictionary(
        "quantity_unit",
        (("qty", ("quantity_unit_key",)),),
        (("unit", pa.string()),),
        _build_one(clean_quantity_unit),
    ),
    Dictionary(
        "vessel",
        (("vessel", ("vessel", "vessel_imo")),),
        (("name", pa.string()), ("imo", pa.string())),
        _build_vessel,
    ),
    Dictionary(
        "carrier",
        (("carrier", ("carrier",)),),
        (("name", pa.string()),),
        _build_one(clean_carrier),
    ),
)


def warm_up() -> None:
    """Load the tables cleaning reads (country names take seconds), e.g. while files are hashed."""
    clean_party("DALIAN HAI QING FOOD CO LTD NO 1 BINHAI RD", "DALIAN, CHINA", "")
    infer_country("SEATTLE, WA 98101, UNITED STATES")
    clean_port("Dalian, China")
    clean_vessel("M/V EVER GIVEN", "")


class DictionaryCache:
    """Cleaned values already computed in this run, so each distinct value is cleaned once.

    Keys are the key fields joined by NUL (prepared rows cannot contain it), the form the
    Arrow side hashes them in: a hit costs one dictionary lookup, no tuple.

    Args:
        date_order: how the layout writes numeric dates.
        max_entries: forget everything past this many entries per lookup (bounds memory on
            inputs where a field is unique per row; at 2 M the party entries of a 10 M-row
            ingest took about a gigabyte).
    """

    def __init__(self, date_order: str, max_entries: int = 200_000) -> None:
        self.date_order = date_order
        self.max_entries = max_entries
        self._cache: dict[str, dict[str, tuple[Any, ...]]] = {d.name: {} for d in DICTIONARIES}

    def _joined_values(self, dictionary: Dictionary, keys: list[str]) -> list[tuple[Any, ...]]:
        """Cleaned outputs for each NUL-joined key, cleaning the ones not seen before."""
        cache = self._cache[dictionary.name]
        get = cache.get
        values: list[tuple[Any, ...] | None] = [get(key) for key in keys]
        missing = [key for key, value in zip(keys, values, strict=True) if value is None]
        if not missing:
            return values  # type: ignore[return-value]
        if len(cache) + len(missing) > self.max_entries:
            # The hits of this call are in hand already: forgetting cannot lose them.
            cache.clear()
        split = [tuple(key.split("\x00")) for key in missing]
        built = dictionary.build(split, self.date_order)
        cache.update(zip(missing, built, strict=True))
        fill = iter(built)
        return [value if value is not None else next(fill) for value in values]

    def values(
        self, dictionary: Dictionary, keys: Sequence[tuple[str, ...]]
    ) -> list[tuple[Any, ...]]:
        """Cleaned outputs for each key, cleaning the ones not seen before."""
        return self._joined_values(dictionary, ["\x00".join(key) for key in keys])

    def lookup(self, dictionary: Dictionary, keys: Sequence[tuple[str, ...]]) -> pa.Table:
        """The lookup table (``k0`` … then outputs) for these distinct keys."""
        values = self.values(dictionary, keys)
        schema = dictionary.arrow_schema()
        arrays = [pa.array([k[i] for k in keys], pa.string()) for i in range(dictionary.width)]
        for i, (_name, kind) in enumerate(dictionary.outputs):
            arrays.append(pa.array([v[i] for v in values], kind))
        return pa.Table.from_arrays(arrays, schema=schema)

    def apply(self, dictionary: Dictionary, table: pa.Table) -> pa.Table:
        """``table`` with every use of the lookup joined on (``_<label>_<output>`` columns).

        The Arrow form of the join the Spark engine does in SQL: distinct keys are found
        with a hash (key columns joined by NUL), cleaned once, and taken back per row.
        """
        for label, key_columns in dictionary.roles:
            if len(key_columns) == 1:
                joined = table.column(key_columns[0])
            else:
                joined = pc.binary_join_element_wise(
                    *(table.column(c) for c in key_columns), "\x00"
                )
            distinct = pc.unique(joined)
            values = self._joined_values(dictionary, distinct.to_pylist())
            index = pc.index_in(joined, value_set=distinct)
            if isinstance(index, pa.ChunkedArray):
                index = index.combine_chunks()
            for i, (_out, name, kind) in enumerate(dictionary.columns(label)):
                column = pa.array(list(map(itemgetter(i), values)), kind)
                if kind == pa.string():
                    # A dictionary array shares one copy of each cleaned string.
                    table = table.append_column(name, pa.DictionaryArray.from_arrays(index, column))
                else:
                    table = table.append_column(name, pc.take(column, index))
        return table
