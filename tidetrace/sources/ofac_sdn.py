"""OFAC SDN list, legacy CSV files (``SDN.csv``, ``ALT.csv``, ``ADD.csv``) to FtM entities.

Each SDN row becomes a ``Person``, ``Vessel``, ``Airplane``, ``Organization`` or ``Company``
(``ofac-<ent_num>``) and one ``Sanction`` (``ofac-sanction-<ent_num>``) listing every
programme separately. Aliases (``ALT.csv``) and addresses (``ADD.csv``) join on ``ent_num``;
they are read once into a dict and handed out as the SDN file streams past. Alias or address
rows whose ``ent_num`` has no SDN row are never given an invented parent: they are counted
in :class:`OfacReport`.

Format quirks handled here (see ``shared/data/SOURCES.md``): no header row, ``-0-`` as the
null marker (usually with a trailing space), CRLF line ends, a 0x1A end-of-file byte, several
programmes written as ``NPWMD] [DPRK2``, and a ``Remarks`` field cut off at 1,000 characters.
"""

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO, Final

from followthemoney.proxy import EntityProxy
from rigour.ids import IMO

from tidetrace.exc import InputError
from tidetrace.model import ensure_schemata
from tidetrace.sources.un_sc import is_company_name

__all__ = [
    "ADD_COLUMNS",
    "ALT_COLUMNS",
    "AUTHORITY",
    "DATASET_META",
    "SDN_COLUMNS",
    "OfacReport",
    "parse",
]

# The same singleton as tidetrace.model.model, but typed: depending on import order mypy
# can take followthemoney's ``model`` name for its ``followthemoney.model`` submodule.
_MODEL: Final = ensure_schemata()

AUTHORITY: Final = "US Treasury OFAC"
SOURCE_URL: Final = "https://www.treasury.gov/ofac/downloads/sdn.csv"

DATASET_META: Final[dict[str, str]] = {
    "name": "ofac_sdn",
    "title": "OFAC Specially Designated Nationals and Blocked Persons List (legacy CSV)",
    "publisher": AUTHORITY,
    "url": "https://ofac.treasury.gov/specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists",
    "licence": "Public domain: a work of the US Government (17 U.S.C. § 105).",
}

SDN_COLUMNS: Final = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
ALT_COLUMNS: Final = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
ADD_COLUMNS: Final = (
    "ent_num",
    "add_num",
    "address",
    "city_state_province_postal",
    "country",
    "add_remarks",
)

_NULL: Final = "-0-"
# C0 controls other than tab; CR and LF are already gone when a line is checked.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f]")
_EOF_MARK: Final = b"\x1a"
# OFAC's data specification caps Remarks at 1,000 characters; longer remarks are cut mid-word.
_REMARKS_LIMIT: Final = 1000
_SCHEMATA: Final[dict[str, str]] = {
    "individual": "Person",
    "vessel": "Vessel",
    "aircraft": "Airplane",
}
_NUMBER: Final = re.compile(r"^\d{1,3}(?:,\d{3})+$|^\d+(?:\.\d+)?$")
_IMO: Final = re.compile(
    r"^(?:alt\. )?(?:Vessel Registration Identification|Identification Number|Company Number)"
    r" IMO\s+(\d{7})(?:\s*\([^()]*\))?$"
)
_WEAK_NAMES: Final = (
    ("a.k.a. '", "weakAlias"),
    ("f.k.a. '", "previousName"),
    # Now known as: a current name, not a previous one.
    ("n.k.a. '", "weakAlias"),
)
_DOCUMENT: Final = re.compile(
    r"^(?P<number>.+?)(?:\s*\((?P<country>[^()]+)\))?(?:\s+(?:issued|expires)\b.*)?$"
)
_DATE: Final = re.compile(r"^(?:(?:(?P<day>\d{1,2}) )?(?P<month>[A-Za-z]{3}) )?(?P<year>\d{4})$")
# English month names, independent of the process locale that strptime's %b would follow.
_MONTHS: Final = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


@dataclass
class OfacReport:
    """What one :func:`parse` run read and what it had to leave out.

    The orphan lists are complete only once the iterator returned by :func:`parse` is
    exhausted, because an ent_num is an orphan only if no SDN row claims it.

    Attributes:
        records: SDN rows read.
        emitted: entities yielded, by schema name (``Sanction`` included).
        skipped: SDN rows left out by the ``program`` filter.
        aliases: ALT rows attached to a yielded entity.
        addresses: ADD rows attached to a yielded entity (rows that are all ``-0-`` excluded).
        orphan_aliases: ent_nums found in ALT but not in SDN, in numeric order.
        orphan_alias_rows: ALT rows under those ent_nums.
        orphan_addresses: ent_nums found in ADD but not in SDN, in numeric order.
        orphan_address_rows: ADD rows under those ent_nums.
    """

    records: int = 0
    emitted: Counter[str] = field(default_factory=Counter)
    skipped: int = 0
    aliases: int = 0
    addresses: int = 0
    orphan_aliases: list[str] = field(default_factory=list)
    orphan_alias_rows: int = 0
    orphan_addresses: list[str] = field(default_factory=list)
    orphan_address_rows: int = 0


Row = dict[str, str | None]


def parse(
    sdn: Path,
    alt: Path | None = None,
    add: Path | None = None,
    program: str | None = None,
    report: OfacReport | None = None,
) -> Iterator[EntityProxy]:
    """Stream the OFAC SDN legacy CSV as FtM entities.

    Args:
        sdn: the ``SDN.csv`` file.
        alt: the matching ``ALT.csv`` (aliases), if any.
        add: the matching ``ADD.csv`` (addresses), if any.
        program: keep only records with a programme in this family, case-insensitively:
            ``"DPRK"`` keeps DPRK, DPRK2, DPRK3, DPRK4 and DPRK-NKSPEA but ``"SDNT"`` does not
            keep SDNTK. ``None`` keeps every record.
        report: filled in with counts and orphan ent_nums as the iterator runs; give each
            call a fresh one, as counts add up.

    Returns:
        An iterator of entities: each listed party followed by its ``Sanction``.

    Raises:
        InputError: a file cannot be read, a line cannot be decoded, a row has the wrong
            number of columns or a non-numeric ``ent_num``; the error names file, line
            and column.
    """
    report = report if report is not None else OfacReport()
    aliases = _group(alt, ALT_COLUMNS) if alt is not None else {}
    addresses = _group(add, ADD_COLUMNS) if add is not None else {}
    family = None if program is None else _program_family(program)

    for lineno, row in _read_rows(sdn, SDN_COLUMNS):
        report.records += 1
        ent_num = _ent_num(sdn, lineno, row)
        # Pop even when filtered out: the parent exists, so these rows are not orphans.
        own_aliases = aliases.pop(ent_num, [])
        own_addresses = addresses.pop(ent_num, [])
        programs = _programs(row["Program"])
        if family is not None and not any(family.match(p) for p in programs):
            report.skipped += 1
            continue
        entity = _make_entity(ent_num, row)
        report.aliases += _add_aliases(entity, own_aliases)
        report.addresses += _add_addresses(entity, own_addresses)
        sanction = _make_sanction(ent_num, entity, programs)
        for proxy in (entity, sanction):
            report.emitted[proxy.schema.name] += 1
            yield proxy

    report.orphan_aliases = sorted(aliases, key=int)
    report.orphan_alias_rows = sum(len(rows) for rows in aliases.values())
    report.orphan_addresses = sorted(addresses, key=int)
    report.orphan_address_rows = sum(len(rows) for rows in addresses.values())


def _program_family(program: str) -> re.Pattern[str]:
    # A family member continues the code with a digit, space or hyphen (DPRK2, DPRK-NKSPEA,
    # "CAATSA - IRAN"); a letter would be another programme (SDNT vs SDNTK).
    return re.compile(rf"{re.escape(program.strip())}(?:$|[\d\s-])", re.IGNORECASE)


def _programs(value: str | None) -> list[str]:
    if value is None:
        return []
    parts = (p.strip(" []") for p in value.split("] ["))
    return [p for p in parts if p]


# -- reading ---------------------------------------------------------------------------------


def _decode(path: Path, fh: BinaryIO) -> Iterator[str]:
    """Yield the file's lines as text, each ending in a plain newline for the csv module.

    OFAC's legacy files are plain ASCII today. Each line is tried as UTF-8 first (ASCII is a
    subset, and a UTF-8 export would be mangled by cp1252), then as cp1252, which OFAC's
    Windows tooling would write; bytes neither can decode are an error, never replaced.
    """
    finished = False
    for lineno, raw in enumerate(fh, start=1):
        body = raw.rstrip(b"\r\n")
        if finished:
            if body.strip():
                raise InputError(path, "data after the end-of-file byte 0x1A", line=lineno)
            continue
        if body.endswith(_EOF_MARK):
            finished = True
            body = body[: -len(_EOF_MARK)]
            if not body.strip():
                continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = body.decode("cp1252")
            except UnicodeDecodeError as exc:
                byte = body[exc.start]
                raise InputError(
                    path,
                    f"byte 0x{byte:02x} at column {exc.start + 1} is neither UTF-8 nor cp1252",
                    line=lineno,
                ) from None
        control = _CONTROL.search(text)
        if control is not None:
            code = ord(control.group())
            reason = f"control character 0x{code:02x} at column {control.start() + 1}"
            raise InputError(path, reason, line=lineno)
        yield text + "\n"


def _read_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, Row]]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None
    with fh:
        reader = csv.reader(_decode(path, fh), strict=True)
        try:
            for cells in reader:
                lineno = reader.line_num
                if not cells:
                    continue
                if len(cells) != len(columns):
                    where = (
                        columns[len(cells)]
                        if len(cells) < len(columns)
                        else f"column {len(columns) + 1}"
                    )
                    raise InputError(
                        path,
                        f"{len(cells)} columns, expected {len(columns)}",
                        line=lineno,
                        field=where,
                    )
                yield (
                    lineno,
                    {name: _value(cell) for name, cell in zip(columns, cells, strict=True)},
                )
        except csv.Error as exc:
            raise InputError(path, f"bad CSV: {exc}", line=reader.line_num) from None


def _value(cell: str) -> str | None:
    value = cell.strip()
    if not value or value == _NULL:
        return None
    return value


def _ent_num(path: Path, lineno: int, row: Row) -> str:
    ent_num = row["ent_num"]
    if ent_num is None or not (ent_num.isascii() and ent_num.isdigit()):
        raise InputError(path, f"ent_num {ent_num!r} is not a number", line=lineno, field="ent_num")
    return ent_num


def _group(path: Path, columns: tuple[str, ...]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for lineno, row in _read_rows(path, columns):
        grouped.setdefault(_ent_num(path, lineno, row), []).append(row)
    return grouped


# -- building entities -----------------------------------------------------------------------


def _add(entity: EntityProxy, prop: str, values: str | Iterable[str | None] | None) -> None:
    # Remarks mix facts for every kind of record; a fact the schema cannot hold (a birth date
    # on a vessel) stays readable in notes, which always carry the full remarks.
    if entity.schema.get(prop) is not None:
        entity.add(prop, values)


def _make_entity(ent_num: str, row: Row) -> EntityProxy:
    name = row["SDN_Name"]
    sdn_type = (row["SDN_Type"] or "").casefold()
    schema = _SCHEMATA.get(sdn_type)
    if schema is None:
        schema = "Company" if name is not None and is_company_name(name) else "Organization"
    entity = _MODEL.make_entity(schema)
    entity.id = f"ofac-{ent_num}"
    entity.add("name", name)
    entity.add("topics", "sanction")
    entity.add("programId", [f"OFAC-{p}" for p in _programs(row["Program"])])
    entity.add("notes", row["Remarks"])

    if schema == "Person":
        _add_person_name(entity, name)
        entity.add("position", row["Title"])
    else:
        entity.add("notes", row["Title"])
    if schema == "Vessel":
        entity.add("callSign", row["Call_Sign"])
        entity.add("type", row["Vess_type"])
        entity.add("flag", row["Vess_flag"])
        entity.add("tonnage", _number(row["Tonnage"]))
        entity.add("grossRegisteredTonnage", _number(row["GRT"]))
        # Vessel.owner must point at an entity; OFAC gives only a name, which may not be
        # listed anywhere, so it stays text.
        if row["Vess_owner"] is not None:
            entity.add("notes", f"Vessel owner: {row['Vess_owner']}")
    if row["Remarks"] is not None:
        _add_remarks(entity, row["Remarks"])
    return entity


def _add_person_name(entity: EntityProxy, name: str | None) -> None:
    # OFAC writes "LAST, First" and sometimes "LAST, First, Jr."; with no comma the name is
    # a single name and not split.
    if name is None or "," not in name:
        return
    last, first, *suffix = (p.strip() for p in name.split(","))
    entity.add("lastName", last)
    entity.add("firstName", first)
    entity.add("nameSuffix", suffix)


def _number(value: str | None) -> str | None:
    if value is None or _NUMBER.match(value) is None:
        return value
    return value.replace(",", "")


def _add_aliases(entity: EntityProxy, rows: list[Row]) -> int:
    for row in rows:
        kind = (row["alt_type"] or "").casefold()
        weak = "weak" in (row["alt_remarks"] or "").casefold()
        if weak:
            prop = "weakAlias"
        elif kind == "fka":
            prop = "previousName"
        else:
            # "aka", and also "nka" (now known as): that is a current name, not a previous one.
            prop = "alias"
        entity.add(prop, row["alt_name"])
    return len(rows)


def _add_addresses(entity: EntityProxy, rows: list[Row]) -> int:
    attached = 0
    for row in rows:
        parts = [row["address"], row["city_state_province_postal"], row["country"]]
        text = ", ".join(p for p in parts if p is not None)
        if not text:
            continue
        attached += 1
        entity.add("address", text)
        entity.add("country", row["country"])
    return attached


def _make_sanction(ent_num: str, entity: EntityProxy, programs: list[str]) -> EntityProxy:
    sanction = _MODEL.make_entity("Sanction")
    sanction.id = f"ofac-sanction-{ent_num}"
    sanction.add("entity", entity.id)
    sanction.add("authority", AUTHORITY)
    sanction.add("authorityId", ent_num)
    sanction.add("program", programs)
    sanction.add("programId", [f"OFAC-{p}" for p in programs])
    sanction.add("sourceUrl", SOURCE_URL)
    return sanction


# -- remarks ---------------------------------------------------------------------------------


def _remark_parts(remarks: str) -> list[str]:
    parts = [p.strip() for p in remarks.split("; ")]
    if len(remarks) >= _REMARKS_LIMIT and not remarks.endswith("."):
        # The last part was cut off ("a.k.a. 'WHOIS HACKIN"): a half alias or number is
        # worse than none. The text is still in notes.
        parts = parts[:-1]
    return [p.removesuffix(".") for p in parts if p]


def _add_remarks(entity: EntityProxy, remarks: str) -> None:
    for part in _remark_parts(remarks):
        _add_remark(entity, part)


def _after(part: str, *labels: str) -> str | None:
    """The text after a label such as ``DOB``, also accepting OFAC's ``alt.`` prefix."""
    for label in labels:
        for prefix in (f"{label} ", f"alt. {label} "):
            if part.startswith(prefix):
                value = part[len(prefix) :].strip()
                return value or None
    return None


def _add_remark(entity: EntityProxy, part: str) -> None:
    # OFAC FAQ 123: in the CSV formats weak names appear only here, quoted: a.k.a. 'NAME'.
    # FtM has no weak form of a previous name, so a weak f.k.a. is a plain previousName.
    for label, prop in _WEAK_NAMES:
        if part.startswith(label) and part.endswith("'") and len(part) > len(label) + 1:
            _add(entity, prop, part[len(label) : -1])
            return
    imo = _IMO.match(part)
    if imo is not None:
        _add_imo(entity, imo.group(1))
        return
    if (value := _after(part, "DOB")) is not None:
        _add(entity, "birthDate", _dates(value))
    elif (value := _after(part, "POB")) is not None:
        _add(entity, "birthPlace", value)
    elif (value := _after(part, "nationality")) is not None:
        _add(entity, "nationality", value)
    elif (value := _after(part, "citizen")) is not None:
        _add(entity, "citizenship", value)
    elif (value := _after(part, "Gender")) is not None:
        _add(entity, "gender", value)
    elif (value := _after(part, "Passport")) is not None:
        _add(entity, "passportNumber", _document_number(value))
    elif (value := _after(part, "National ID No.")) is not None:
        _add(entity, "idNumber", _document_number(value))
    elif (value := _after(part, "Email Address")) is not None:
        _add(entity, "email", value)
    elif (value := _after(part, "Website")) is not None:
        _add(entity, "website", value)
    elif (value := _after(part, "MMSI")) is not None:
        _add(entity, "mmsi", value)
    elif (value := _after(part, "Vessel Registration Identification")) is not None:
        # Not labelled IMO ("8606173", "RS 150443 (Russia)"): a registration number, even
        # when it would pass an IMO checksum, since seven digits alone do not say which.
        _add(entity, "registrationNumber", value)
    elif (value := _after(part, "Aircraft Model")) is not None:
        _add(entity, "model", value)
    elif (value := _after(part, "Aircraft Manufacture Date")) is not None:
        _add(entity, "buildDate", _dates(value))
    elif (value := _after(part, "Aircraft Tail Number")) is not None:
        _add(entity, "registrationNumber", value)
    elif (value := _after(part, "Aircraft Manufacturer's Serial Number (MSN)")) is not None:
        _add(entity, "serialNumber", value)


def _add_imo(entity: EntityProxy, digits: str) -> None:
    # Ships and companies have separate IMO check-digit schemes; a number that fails the
    # scheme for its own kind of record is left in notes rather than trusted.
    if entity.schema.is_a("Vessel"):
        valid = IMO.is_valid_vessel(digits)
    else:
        valid = IMO.is_valid_company(digits)
    if valid:
        _add(entity, "imoNumber", f"IMO{digits}")


def _document_number(value: str) -> str | None:
    match = _DOCUMENT.match(value)
    return None if match is None else match.group("number").strip()


def _dates(value: str) -> list[str]:
    """ISO dates (or months or years) from OFAC's "DOB" forms.

    Handles "10 Dec 1948", "Sep 1938", "1946", "circa 1951", "1951 to 1953" and
    "01 Jan 1961 to 31 Dec 1962". Anything else gives nothing (and stays in notes).
    """
    value = value.removeprefix("circa ").strip()
    out: list[str] = []
    for piece in value.split(" to "):
        parsed = _date(piece.strip())
        if parsed is None:
            return []
        out.append(parsed)
    if len(out) == 2 and len(out[0]) == len(out[1]) == 4:
        first, last = int(out[0]), int(out[1])
        if 0 <= last - first <= 10:
            # Every year in a short range, so a match on any of them is possible.
            return [str(y) for y in range(first, last + 1)]
    return out


def _date(text: str) -> str | None:
    match = _DATE.match(text)
    if match is None:
        return None
    day, month_name, year = match.group("day", "month", "year")
    if month_name is None:
        return year
    month = _MONTHS.get(month_name.casefold())
    if month is None:
        return None
    if day is None:
        return f"{year}-{month:02d}"
    try:
        return date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None
