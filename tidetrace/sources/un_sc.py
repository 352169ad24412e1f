"""UN Security Council Consolidated Sanctions List (XML) to FollowTheMoney entities.

The list is one XML file with ``INDIVIDUAL`` and ``ENTITY`` records. Each record becomes a
``Person``, ``Organization`` or ``Company`` (``un-sc-<DATAID>``) plus one ``Sanction``
(``un-sc-sanction-<DATAID>``) that carries the regime, the UN reference number and the
listing date. Addresses are kept as ``address`` strings, as in :mod:`tidetrace.sources.ofac_sdn`,
so the two lists can be compared property by property.

The file is read with ``iterparse`` and each record is dropped once converted, so memory stays
flat however long the list grows.
"""

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from followthemoney.proxy import EntityProxy
from rigour.names import extract_org_types

from tidetrace.exc import InputError
from tidetrace.model import ensure_schemata

__all__ = ["AUTHORITY", "DATASET_META", "is_company_name", "parse"]

# The same singleton as tidetrace.model.model, but typed: depending on import order mypy
# can take followthemoney's ``model`` name for its ``followthemoney.model`` submodule.
_MODEL: Final = ensure_schemata()

AUTHORITY: Final = "United Nations Security Council"
SOURCE_URL: Final = "https://scsanctions.un.org/resources/xml/en/consolidated.xml"

DATASET_META: Final[dict[str, str]] = {
    "name": "un_sc",
    "title": "UN Security Council Consolidated Sanctions List",
    "publisher": AUTHORITY,
    "url": "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
    "licence": (
        "Official UN material published for every member state to apply; the file carries no "
        "licence text. Attribute: United Nations Security Council."
    ),
}

# The regime key in UN_LIST_TYPE and the prefix of its reference numbers do not share
# spelling (DPRK vs KPi./KPe.), so a filter checks both in case one of them is mistyped.
_REFERENCE_PREFIXES: Final[dict[str, str]] = {"dprk": "kp"}

# rigour knows international legal forms (Ltd, GmbH, S.A., OOO ...) but deliberately leaves
# out the English words that also name state bodies, so they are added here.
_COMPANY_WORDS: Final = re.compile(
    r"\b(co|corp|corporation|company|companies|incorporated|inc)\b\.?", re.IGNORECASE
)

_PASSPORT_TYPES: Final = ("passport", "pasaporte", "passeport")
_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}")
_YEAR: Final = re.compile(r"^\d{4}$")
# A BETWEEN range wider than this is more likely a typo than a real uncertainty.
_MAX_YEAR_SPAN: Final = 10


def is_company_name(name: str) -> bool:
    """Tell whether a name carries a company legal form ("Co.", "Ltd", "Corporation" ...).

    Args:
        name: an organisation's name as listed.

    Returns:
        True when the name contains a legal-form word, so the entity is a ``Company``.
    """
    if _COMPANY_WORDS.search(name) is not None:
        return True
    return len(extract_org_types(name.casefold())) > 0


def parse(path: Path, program: str | None = None) -> Iterator[EntityProxy]:
    """Stream the UN consolidated list as FtM entities.

    Args:
        path: the consolidated list XML file.
        program: keep only one regime, compared case-insensitively with ``UN_LIST_TYPE``
            (``"DPRK"`` keeps the 1718 regime, reference numbers ``KPi.*``/``KPe.*``);
            ``None`` keeps every regime.

    Returns:
        An iterator of entities: each listed party followed by its ``Sanction``.

    Raises:
        InputError: the file cannot be read, is not well-formed XML (with the line), or a
            record has no usable ``DATAID``.
    """
    wanted = None if program is None else program.strip().casefold()
    for record in _iter_records(path):
        if wanted is not None and not _in_program(record, wanted):
            continue
        yield from _convert(record, path)


def _iter_records(path: Path) -> Iterator[ET.Element]:
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None
    # The file is ours to close, also when the caller stops iterating early.
    with fh:
        # Python's bundled expat (>= 2.4.1) refuses entity-expansion bombs and ElementTree
        # never fetches external entities, so the stdlib parser is safe on untrusted files.
        events = ET.iterparse(fh, events=("start", "end"))  # noqa: S314
        stack: list[ET.Element] = []
        try:
            for event, elem in events:
                if event == "start":
                    if not stack and elem.tag != "CONSOLIDATED_LIST":
                        reason = f"not a UN consolidated list: root is <{elem.tag}>"
                        raise InputError(path, reason)
                    stack.append(elem)
                    continue
                stack.pop()
                if elem.tag not in ("INDIVIDUAL", "ENTITY"):
                    continue
                yield elem
                # Detach the finished record from its container so the tree never grows.
                if stack:
                    stack[-1].remove(elem)
        except ET.ParseError as exc:
            line, _column = exc.position
            raise InputError(path, f"malformed XML: {exc}", line=line) from None
        except OSError as exc:
            raise InputError(path, f"cannot read file: {exc.strerror or exc}") from None


def _text(elem: ET.Element | None) -> str | None:
    if elem is None or elem.text is None:
        return None
    # COMMENTS1 and others are hard-wrapped at ~90 columns; the breaks carry no meaning.
    value = " ".join(elem.text.split())
    return value or None


def _child(elem: ET.Element, tag: str) -> str | None:
    return _text(elem.find(tag))


def _values(elem: ET.Element, tag: str) -> list[str]:
    """Texts of ``<TAG><VALUE>..</VALUE></TAG>`` lists, e.g. NATIONALITY or TITLE."""
    out: list[str] = []
    for group in elem.findall(tag):
        for value in group.findall("VALUE"):
            text = _text(value)
            if text is not None:
                out.append(text)
    return out


def _in_program(record: ET.Element, wanted: str) -> bool:
    list_type = (_child(record, "UN_LIST_TYPE") or "").casefold()
    if list_type == wanted:
        return True
    prefix = _REFERENCE_PREFIXES.get(wanted)
    reference = (_child(record, "REFERENCE_NUMBER") or "").casefold()
    return prefix is not None and reference.startswith(prefix)


def _join(parts: Iterable[str | None], sep: str = ", ") -> str | None:
    kept = [p for p in parts if p is not None]
    return sep.join(kept) if kept else None


def _iso_date(value: str | None) -> str | None:
    # LISTED_ON is xs:date and a few carry a zone offset ("2015-07-01-04:00").
    if value is None or _ISO_DATE.match(value) is None:
        return None
    return value[:10]


def _convert(record: ET.Element, path: Path) -> Iterator[EntityProxy]:
    dataid = _child(record, "DATAID")
    reference = _child(record, "REFERENCE_NUMBER")
    if dataid is None or not (dataid.isascii() and dataid.isdigit()):
        where = f" (reference {reference})" if reference else ""
        raise InputError(path, f"record without a numeric DATAID{where}", field="DATAID")

    name = _join((_child(record, f"{n}_NAME") for n in ("FIRST", "SECOND", "THIRD", "FOURTH")), " ")
    if record.tag == "INDIVIDUAL":
        schema = "Person"
    elif name is not None and is_company_name(name):
        schema = "Company"
    else:
        schema = "Organization"

    entity = _MODEL.make_entity(schema)
    entity.id = f"un-sc-{dataid}"
    entity.add("name", name)
    entity.add("topics", "sanction")
    list_type = _child(record, "UN_LIST_TYPE")
    program_id = None if list_type is None else f"UN-SC-{list_type.upper()}"
    entity.add("programId", program_id)
    entity.add("notes", _child(record, "COMMENTS1"))
    # No FtM 4.11 EntityProxy value carries a language tag, so the original-script name
    # (Arabic, Cyrillic in this list) is kept as an alias rather than a tagged name.
    entity.add("alias", _child(record, "NAME_ORIGINAL_SCRIPT"))

    alias_tag = "INDIVIDUAL_ALIAS" if record.tag == "INDIVIDUAL" else "ENTITY_ALIAS"
    for alias in record.findall(alias_tag):
        _add_alias(entity, alias)
    for address_tag in ("INDIVIDUAL_ADDRESS", "ENTITY_ADDRESS"):
        for address in record.findall(address_tag):
            _add_address(entity, address)
    if record.tag == "INDIVIDUAL":
        _add_person_details(entity, record)

    sanction = _MODEL.make_entity("Sanction")
    sanction.id = f"un-sc-sanction-{dataid}"
    sanction.add("entity", entity.id)
    sanction.add("authority", AUTHORITY)
    sanction.add("program", list_type)
    sanction.add("programId", program_id)
    sanction.add("authorityId", reference)
    sanction.add("unscId", reference)
    sanction.add("listingDate", _iso_date(_child(record, "LISTED_ON")))
    updated = sorted(filter(None, (_iso_date(v) for v in _values(record, "LAST_DAY_UPDATED"))))
    if updated:
        sanction.add("modifiedAt", updated[-1])
    sanction.add("sourceUrl", SOURCE_URL)
    yield entity
    yield sanction


def _add_alias(entity: EntityProxy, alias: ET.Element) -> None:
    name = _child(alias, "ALIAS_NAME")
    if name is None:
        return
    quality = (_child(alias, "QUALITY") or "").casefold()
    if quality == "low":
        entity.add("weakAlias", name)
    elif quality == "f.k.a.":
        entity.add("previousName", name)
    else:
        # "Good", "a.k.a." and the odd blank quality are all ordinary aliases.
        entity.add("alias", name)
    if entity.schema.is_a("Person"):
        # An alias can come with the birth details used under it; they still identify
        # the person, so they go with the other birth data.
        entity.add("birthDate", _iso_date(_child(alias, "DATE_OF_BIRTH")))
        entity.add("birthPlace", _child(alias, "CITY_OF_BIRTH"))
        entity.add("birthCountry", _child(alias, "COUNTRY_OF_BIRTH"))


def _add_address(entity: EntityProxy, address: ET.Element) -> None:
    parts = [_child(address, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")]
    country = _child(address, "COUNTRY")
    # Some addresses exist only as free text in NOTE ("Branch Office 3: ..."); when there
    # are structured parts too, NOTE is a qualifier such as "as of early 2016".
    text = _join([*parts, country]) or _child(address, "NOTE")
    entity.add("address", text)
    entity.add("country", country)


def _add_person_details(entity: EntityProxy, record: ET.Element) -> None:
    entity.add("nationality", _values(record, "NATIONALITY"))
    entity.add("title", _values(record, "TITLE"))
    entity.add("position", _values(record, "DESIGNATION"))
    entity.add("gender", _child(record, "GENDER"))
    for dob in record.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        entity.add("birthDate", list(_birth_dates(dob)))
    for pob in record.findall("INDIVIDUAL_PLACE_OF_BIRTH"):
        country = _child(pob, "COUNTRY")
        parts = [_child(pob, t) for t in ("STREET", "CITY", "STATE_PROVINCE")]
        entity.add("birthPlace", _join([*parts, country]))
        entity.add("birthCountry", country)
    for doc in record.findall("INDIVIDUAL_DOCUMENT"):
        number = _child(doc, "NUMBER")
        if number is None:
            continue
        kind = (_child(doc, "TYPE_OF_DOCUMENT") or "").casefold()
        is_passport = any(word in kind for word in _PASSPORT_TYPES)
        entity.add("passportNumber" if is_passport else "idNumber", number)


def _birth_dates(dob: ET.Element) -> Iterator[str]:
    date = _iso_date(_child(dob, "DATE"))
    if date is not None:
        yield date
    year = _child(dob, "YEAR")
    if year is not None and _YEAR.match(year):
        yield year
    start, end = _child(dob, "FROM_YEAR"), _child(dob, "TO_YEAR")
    if start is None or end is None or not (_YEAR.match(start) and _YEAR.match(end)):
        return
    first, last = int(start), int(end)
    if 0 <= last - first <= _MAX_YEAR_SPAN:
        # Every year in the range, so a match on any of them is possible.
        yield from (str(y) for y in range(first, last + 1))
    else:
        yield from (start, end)
