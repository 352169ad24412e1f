"""Parquet rows as FollowTheMoney entities: ``Shipment`` edges between parties.

Each bill (its latest version) becomes a ``Shipment`` whose id is its ``shipment_id``; each
named party becomes a ``Company`` (a name with a legal form) or ``LegalEntity``, with the
stable id ingest gave it from its cleaned name and country, so the same plant written the
same way on a thousand bills is one entity, and the variants it is written in are its
names. Parties given as blank, "NOT AVAILABLE", "TO ORDER", "SAME AS CONSIGNEE" or
redacted never become entities: the bill says so in its summary instead. A forwarder or
NVOCC in the shipper slot stays an entity (it is a real company) and the bill says that
the producer is not named. Vessels with a valid IMO number become ``Vessel`` entities.

These are the entities entity resolution works on, and what ``tidetrace shipments export
--format ftm`` writes.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from followthemoney.proxy import EntityProxy

from tidetrace.model import model
from tidetrace.shipments.fields import PARQUET_COLUMNS
from tidetrace.shipments.normalize import party_schema

__all__ = ["EntityBuilder", "shipment_entities", "vessel_id"]

ROLES = {"shipper": "shipper", "consignee": "consignee", "notify": "notifyParty"}
STATUS_TEXT = {
    "blank": "not given",
    "not_available": "given as not available",
    "to_order": "to order (negotiable bill: whoever holds it takes the goods)",
    "redacted": "withheld or redacted",
    "same_as_other": "given as the same as another party",
}
MAX_VARIANTS = 25
# Columns copied to a Shipment property as they are (entity-typed ones are handled apart).
_SIMPLE = {
    c.name: c.prop
    for c in PARQUET_COLUMNS
    if c.prop is not None and c.prop not in ("shipper", "consignee", "notifyParty")
}


def vessel_id(imo: str) -> str:
    """The entity id of a vessel from its IMO number (``IMO9811000``)."""
    return "tt-vessel-" + imo.lower()


def _text(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, float):
        return [f"{value:.3f}".rstrip("0").rstrip(".")]
    if hasattr(value, "isoformat"):
        return [value.isoformat()]
    return [str(value)]


@dataclass
class _Party:
    id: str
    clean: str
    names: dict[str, None] = field(default_factory=dict)
    addresses: dict[str, None] = field(default_factory=dict)
    countries: dict[str, None] = field(default_factory=dict)
    forwarder: bool = False


class EntityBuilder:
    """Turns rows into entities; parties and vessels are gathered across rows."""

    def __init__(self) -> None:
        self._parties: dict[str, _Party] = {}
        self._vessels: dict[str, set[str]] = {}

    def shipment(self, row: dict[str, Any]) -> EntityProxy:
        """The ``Shipment`` of one row (its parties are remembered for :meth:`others`)."""
        entity = model.make_entity("Shipment")
        entity.id = row["shipment_id"]
        for column, prop in _SIMPLE.items():
            for value in _text(row.get(column)):
                entity.add(prop, value, cleaned=prop in ("weightKg", "quantity"))
        entity.add("recordId", row["row_id"])
        notes = []
        for role, prop in ROLES.items():
            status = row.get(f"{role}_status")
            party_id = row.get(f"{role}_id")
            if status == "named" and party_id is not None:
                entity.add(prop, party_id)
                self._remember(role, row, party_id)
            elif status in STATUS_TEXT and role != "notify":
                notes.append(f"{role}: {STATUS_TEXT[status]}")
        if row.get("shipper_is_forwarder"):
            notes.append("the shipper is a freight forwarder or NVOCC; the producer is not named")
        if notes:
            entity.add("summary", "; ".join(notes))
        imo = row.get("vessel_imo")
        if imo:
            entity.add("vessel", vessel_id(imo))
            names = self._vessels.setdefault(imo, set())
            if row.get("vessel_name") and len(names) < MAX_VARIANTS:
                names.add(row["vessel_name"])
        return entity

    def _remember(self, role: str, row: dict[str, Any], party_id: str) -> None:
        party = self._parties.get(party_id)
        if party is None:
            party = self._parties[party_id] = _Party(party_id, row[f"{role}_name"] or "")
        raw = " ".join((row.get(f"{role}_name_raw") or "").split())
        if raw and len(party.names) < MAX_VARIANTS:
            party.names[raw] = None
        address = row.get(f"{role}_address")
        if address and len(party.addresses) < MAX_VARIANTS:
            party.addresses[address] = None
        country = row.get(f"{role}_country")
        if country:
            party.countries[country] = None
        if role == "shipper" and row.get("shipper_is_forwarder"):
            party.forwarder = True

    def others(self) -> Iterator[EntityProxy]:
        """The parties and vessels of every row seen so far."""
        for party in self._parties.values():
            entity = model.make_entity(party_schema(party.clean))
            entity.id = party.id
            entity.add("name", list(party.names) or [party.clean])
            entity.add("address", list(party.addresses))
            entity.add("country", list(party.countries))
            if party.forwarder:
                entity.add("notes", "appears as shipper on bills as a freight forwarder or NVOCC")
            yield entity
        for imo, names in self._vessels.items():
            entity = model.make_entity("Vessel")
            entity.id = vessel_id(imo)
            entity.add("imoNumber", imo)
            entity.add("name", sorted(names) or [imo])
            yield entity


def shipment_entities(rows: Iterable[dict[str, Any]]) -> Iterator[EntityProxy]:
    """Shipments for ``rows`` (latest versions), then their parties and vessels."""
    builder = EntityBuilder()
    for row in rows:
        yield builder.shipment(row)
    yield from builder.others()
