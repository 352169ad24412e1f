"""What the resolver reads: small records, whatever they came from.

A :class:`Record` has an id, an FtM schema, names, countries, addresses, identifiers and a
source. Store entities (list entries, the case's plants, registry facilities) become records
through :func:`from_entity`; bill-of-lading parties through :func:`from_party`, which takes
plain fields so that it does not depend on how ``tidetrace.shipments`` stores them.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from followthemoney.proxy import EntityProxy

from tidetrace.model import model
from tidetrace.resolve.identifiers import Identifier, detect_scheme, parse_identifier

__all__ = [
    "IDENTIFIER_PROPS",
    "RESOLVABLE_SCHEMATA",
    "Record",
    "from_entity",
    "from_party",
    "is_resolvable",
]

# Entities that resolution looks at: parties to trade, plants and list entries. People are
# left out on purpose: the name pipeline is built for firm names, and merging people needs
# birth dates and documents that trade records do not carry.
RESOLVABLE_SCHEMATA = ("LegalEntity", "Organization", "Company", "PublicBody", "Facility", "Vessel")
# FtM identifier properties with a known scheme; other identifier-typed properties are
# tried with :func:`detect_scheme`.
IDENTIFIER_PROPS: dict[str, str] = {
    "imoNumber": "imo",
    "leiCode": "lei",
    "mmsi": "mmsi",
    "approvalCode": "cn_establishment",
    "feiNumber": "fei",
}
_DETECT_PROPS = ("registrationNumber", "taxNumber", "idNumber", "uniqueEntityId", "innCode")


@dataclass(frozen=True)
class Record:
    """One thing to resolve.

    Attributes:
        id: the entity or party id.
        schema: its FtM schema name.
        names: its names in any script (name, aliases, previous names).
        countries: ISO 3166-1 alpha-2 codes, lower case.
        addresses: addresses as free text.
        identifiers: validated identifiers.
        source: the dataset or file it came from (shown to reviewers).
    """

    id: str
    schema: str
    names: tuple[str, ...]
    countries: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    identifiers: tuple[Identifier, ...] = field(default_factory=tuple)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (also how records travel to Spark workers)."""
        return {
            "id": self.id,
            "schema": self.schema,
            "names": list(self.names),
            "countries": list(self.countries),
            "addresses": list(self.addresses),
            "identifiers": [[i.scheme, i.value] for i in self.identifiers],
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Record":
        """The inverse of :meth:`to_dict`."""
        return cls(
            id=str(data["id"]),
            schema=str(data["schema"]),
            names=tuple(data.get("names") or ()),
            countries=tuple(data.get("countries") or ()),
            addresses=tuple(data.get("addresses") or ()),
            identifiers=tuple(Identifier(s, v) for s, v in data.get("identifiers") or ()),
            source=str(data.get("source") or ""),
        )


def is_resolvable(schema_name: str) -> bool:
    """Whether entities of this schema take part in resolution."""
    schema = model.get(schema_name)
    if schema is None:
        return False
    return schema.name in RESOLVABLE_SCHEMATA or any(
        schema.is_a(name) for name in RESOLVABLE_SCHEMATA if name != "LegalEntity"
    )


def _identifiers(pairs: Iterable[tuple[str, str]]) -> tuple[Identifier, ...]:
    found: set[Identifier] = set()
    for scheme, value in pairs:
        ident = parse_identifier(scheme, value) if scheme else detect_scheme(value)
        if ident is None and scheme == "cn_establishment":
            # approvalCode holds other countries' approval numbers too.
            ident = parse_identifier("approval", value)
        if ident is not None:
            found.add(ident)
    return tuple(sorted(found))


def from_entity(entity: EntityProxy, source: str = "") -> Record | None:
    """A record for an FtM entity; None when it has no name or is not resolvable.

    Args:
        entity: a store entity (its own statements, not a merged view).
        source: the dataset to show; defaults to the entity's datasets.
    """
    if entity.id is None or not is_resolvable(entity.schema.name):
        return None
    # A property's values come out in the order of a set, which changes with the process's
    # hash seed; the scorer breaks ties by name order, so a re-run on the same data could
    # link differently. Sorted within each property, the same entity is the same record.
    names: list[str] = []
    for prop in ("name", "alias", "previousName", "weakAlias"):
        if prop in entity.schema.properties:
            names.extend(sorted(entity.get(prop, quiet=True)))
    if not names:
        return None
    pairs: list[tuple[str, str]] = []
    for ftm_prop, value in sorted(entity.itervalues(), key=lambda pv: (pv[0].name, pv[1])):
        if ftm_prop.type.name != "identifier":
            continue
        if ftm_prop.name in IDENTIFIER_PROPS:
            pairs.append((IDENTIFIER_PROPS[ftm_prop.name], value))
        elif ftm_prop.name in _DETECT_PROPS:
            pairs.append(("", value))
    countries = sorted(
        {v.lower() for prop in ("country", "jurisdiction", "flag") for v in _get(entity, prop)}
    )
    addresses = sorted(_get(entity, "address"))
    if not addresses and entity.schema.is_a("Facility"):
        place = ", ".join(v for p in ("city", "province") for v in sorted(_get(entity, p)))
        if place:
            addresses.append(place)
    datasets = getattr(entity, "datasets", None)
    if not source and datasets:
        source = ", ".join(sorted(datasets))
    return Record(
        id=entity.id,
        schema=entity.schema.name,
        names=tuple(dict.fromkeys(names)),
        countries=tuple(countries),
        addresses=tuple(addresses),
        identifiers=_identifiers(pairs),
        source=source,
    )


def _get(entity: EntityProxy, prop: str) -> list[str]:
    if prop not in entity.schema.properties:
        return []
    return list(entity.get(prop, quiet=True))


def from_party(
    party_id: str,
    name: str,
    *,
    address: str | None = None,
    country: str | None = None,
    identifiers: Iterable[tuple[str, str]] = (),
    source: str = "shipments",
    schema: str = "LegalEntity",
) -> Record:
    """A record for a bill-of-lading party (shipper, consignee or notify party).

    Args:
        party_id: a stable id for the party as written on the bill.
        name: the party field; an address folded into it is split off by the name pipeline.
        address: the address field, when the source has one.
        country: ISO alpha-2 code of the party's country, when known.
        identifiers: ``(scheme, value)`` pairs, e.g. ``("cn_establishment", "2100/02153")``.
        source: where the party was read (dataset or file).
        schema: the FtM schema to give the party (``LegalEntity`` unless known better).
    """
    return Record(
        id=party_id,
        schema=schema,
        names=(name,),
        countries=(country.lower(),) if country else (),
        addresses=(address,) if address else (),
        identifiers=_identifiers(identifiers),
        source=source,
    )


def records_from_entities(entities: Iterable[EntityProxy]) -> Iterator[Record]:
    """Records for every resolvable, named entity of ``entities``."""
    for entity in entities:
        record = from_entity(entity)
        if record is not None:
            yield record
