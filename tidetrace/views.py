"""Data structures that the CLI, the API and the web pages all show, built in one place."""

from dataclasses import asdict, dataclass, field
from typing import Any

from followthemoney import StatementEntity
from rigour.langs import LangStr
from rigour.names.pick import pick_lang_name

from tidetrace.exc import NotFoundError
from tidetrace.model import model
from tidetrace.store.datasets import TRADE_PARTIES_DATASET
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
class Counterpart:
    """Another entity a related entity names, e.g. the customer of a supply link."""

    prop_label: str
    id: str
    caption: str


@dataclass
class RelatedRef:
    """An entity that points at this one (a sanction, a supply link, a reply …)."""

    id: str
    schema: str
    caption: str
    summary: list[str]
    counterparts: list[Counterpart] = field(default_factory=list)


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


def _summary(entity: StatementEntity, skip: str, captions: dict[str, str]) -> list[str]:
    parts: list[str] = []
    for prop, value in entity.itervalues():
        if prop.name == "id" or (prop.type.name == "entity" and value == skip):
            continue
        shown = captions.get(value, value) if prop.type.name == "entity" else value
        parts.append(f"{prop.label}: {shown}")
    return parts[:8]


def _counterparts(
    entity: StatementEntity, skip: str, captions: dict[str, str]
) -> list[Counterpart]:
    out: list[Counterpart] = []
    for prop, value in entity.itervalues():
        if prop.type.name == "entity" and value != skip:
            out.append(Counterpart(prop.label, value, captions.get(value, value)))
    return out


def _ref_caption(entity: StatementEntity, captions: dict[str, str]) -> str:
    # An edge reads better as "source → target" than as its schema label.
    schema = entity.schema
    if schema.edge and schema.source_prop is not None and schema.target_prop is not None:
        sources = [captions.get(v, v) for v in entity.get(schema.source_prop)]
        targets = [captions.get(v, v) for v in entity.get(schema.target_prop)]
        if sources and targets:
            return f"{', '.join(sources)} → {', '.join(targets)}"
    return entity.caption


def display_caption(entity: StatementEntity) -> str:
    """The entity's title, preferring names from lists, registries and the case.

    A plant merged with its bill-of-lading spellings would otherwise often be titled by a
    spelling as filed on a manifest ("DALIAN HAIQING FOODS CO.,LTD"): those outnumber the
    curated names, and FtM picks the most central of all names.
    """
    names = entity.get_statements("name", quiet=True)
    curated = [s for s in names if s.dataset != TRADE_PARTIES_DATASET]
    if not curated or len(curated) == len(names):
        return entity.caption
    picked = pick_lang_name([LangStr(s.value, lang=s.lang) for s in curated])
    return picked if picked is not None else entity.caption


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
        caption=display_caption(entity),
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
    refs = [ref for ref in store.referencing(entity.id) if ref.id is not None]
    named = {v for ref in refs for p, v in ref.itervalues() if p.type.name == "entity"}
    captions = store.captions(named)
    for ref in refs:
        assert ref.id is not None
        view.related.append(
            RelatedRef(
                ref.id,
                ref.schema.name,
                _ref_caption(ref, captions),
                _summary(ref, entity.id, captions),
                _counterparts(ref, entity.id, captions),
            )
        )
    return view
