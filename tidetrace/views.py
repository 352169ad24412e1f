"""Data structures that the CLI, the API and the web pages all show, built in one place."""

from dataclasses import asdict, dataclass, field
from typing import Any

from followthemoney import StatementEntity

from tidetrace.exc import NotFoundError
from tidetrace.model import model
from tidetrace.store.entities import EntityStore


@dataclass
class ValueRow:
    """One value of one property, with where it came from."""

    prop: str
    prop_label: str
    prop_type: str
    value: str
    original_value: str | None
    lang: str | None
    dataset: str
    origin: str | None
    first_seen: str
    last_seen: str


@dataclass
class RelatedRef:
    """An entity that points at this one (a sanction, a supply link, a reply …)."""

    id: str
    schema: str
    caption: str
    summary: list[str]


@dataclass
class EntityView:
    """An entity as shown to a person: caption, values with provenance, related entities."""

    id: str
    schema: str
    schema_label: str
    caption: str
    datasets: list[str]
    values: list[ValueRow] = field(default_factory=list)
    related: list[RelatedRef] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)


def _summary(entity: StatementEntity, skip: str) -> list[str]:
    parts: list[str] = []
    for prop, value in entity.itervalues():
        if prop.type.name == "entity" and value == skip:
            continue
        if prop.name in ("id",):
            continue
        parts.append(f"{prop.label}: {value}")
    return parts[:8]


def entity_view(store: EntityStore, entity_id: str) -> EntityView:
    """Build the view of an entity; NotFoundError when it does not exist."""
    entity = store.get_entity(entity_id)
    if entity is None or entity.id is None:
        raise NotFoundError(f"no entity {entity_id!r}")
    schema = entity.schema
    view = EntityView(
        id=entity.id,
        schema=schema.name,
        schema_label=schema.label,
        caption=entity.caption,
        datasets=sorted(entity.datasets),
        topics=entity.get("topics", quiet=True),
    )
    for stmt in store.statements(entity.id):
        if stmt.prop == "id":
            continue
        prop = schema.get(stmt.prop) or model.get_qname(f"{stmt.schema}:{stmt.prop}")
        view.values.append(
            ValueRow(
                prop=stmt.prop,
                prop_label=prop.label if prop is not None else stmt.prop,
                prop_type=stmt.prop_type,
                value=stmt.value,
                original_value=stmt.original_value,
                lang=stmt.lang,
                dataset=stmt.dataset,
                origin=stmt.origin,
                first_seen=stmt.first_seen or "",
                last_seen=stmt.last_seen or "",
            )
        )
    for ref in store.referencing(entity.id):
        if ref.id is None:
            continue
        view.related.append(
            RelatedRef(ref.id, ref.schema.name, ref.caption, _summary(ref, entity.id))
        )
    return view
