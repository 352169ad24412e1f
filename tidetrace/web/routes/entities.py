"""The entity page: caption, topics, a provenance table of every value, related entities."""

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tidetrace.exc import NotFoundError
from tidetrace.model import model
from tidetrace.store.entities import EntityStore
from tidetrace.views import EntityView, RelatedRef, entity_view
from tidetrace.web.context import doc
from tidetrace.web.deps import READ, ActorDep, EntityIdPath, StoreDep, clean_text
from tidetrace.web.render import render_page, topic_label

__all__ = ["EntityContext", "RelatedGroup", "TopicBadge", "build_entity", "load_entity", "router"]

router = APIRouter()

# Related entities people look for first; other schemata follow in label order.
RELATED_ORDER = ("Sanction", "SupplyLink", "Observation", "Reply")
# Entity-typed values whose captions are looked up for the provenance table.
MAX_REF_CAPTIONS = 50


@dataclass
class TopicBadge:
    """A topic shown as a badge (``sanction`` → "Sanctioned")."""

    code: str = field(metadata=doc("FtM topic code, e.g. sanction."))
    label: str = field(metadata=doc("Human label of the topic."))


@dataclass
class RelatedGroup:
    """Entities of one schema that point at this entity."""

    schema: str = field(metadata=doc("FtM schema name of the group."))
    label: str = field(metadata=doc("Plural label, e.g. Sanctions."))
    items: list[RelatedRef] = field(metadata=doc("The related entities, by caption."))


@dataclass
class EntityContext:
    """What the entity page shows; ``GET /api/entities/{id}`` returns ``entity``."""

    entity: EntityView = field(
        metadata=doc("The entity with a provenance row per value (tidetrace.views).")
    )
    topics: list[TopicBadge] = field(metadata=doc("Topics (sanction, crime …) as badges."))
    related: list[RelatedGroup] = field(
        metadata=doc("Entities pointing at this one, grouped by schema.")
    )
    ref_captions: dict[str, str] = field(
        metadata=doc("Captions of entities this one's values point at, by id.")
    )


def load_entity(store: EntityStore, entity_id: str) -> EntityView:
    """The entity's view; NotFoundError for unknown or malformed ids.

    Raises:
        NotFoundError: no entity has this id.
    """
    clean = clean_text(entity_id)
    if clean != entity_id or not clean:
        # Control characters cannot be in an id we minted; answer as for any unknown id.
        raise NotFoundError("no such entity")
    return entity_view(store, clean)


def _group_related(refs: list[RelatedRef]) -> list[RelatedGroup]:
    by_schema: dict[str, list[RelatedRef]] = {}
    for ref in refs:
        by_schema.setdefault(ref.schema, []).append(ref)

    def order(name: str) -> tuple[int, str]:
        rank = RELATED_ORDER.index(name) if name in RELATED_ORDER else len(RELATED_ORDER)
        return rank, name

    groups = []
    for name in sorted(by_schema, key=order):
        schema = model.get(name)
        label = schema.plural if schema is not None else name
        items = sorted(by_schema[name], key=lambda r: r.caption)
        groups.append(RelatedGroup(name, label, items))
    return groups


def build_entity(store: EntityStore, entity_id: str) -> EntityContext:
    """Fill the entity page's context.

    Raises:
        NotFoundError: no entity has this id.
    """
    view = load_entity(store, entity_id)
    captions: dict[str, str] = {}
    for row in view.values:
        if row.prop_type != "entity" or row.value in captions:
            continue
        if len(captions) >= MAX_REF_CAPTIONS:
            break
        target = store.get_entity(row.value)
        if target is not None:
            captions[row.value] = target.caption
    return EntityContext(
        entity=view,
        topics=[TopicBadge(code, topic_label(code)) for code in view.topics],
        related=_group_related(view.related),
        ref_captions=captions,
    )


@router.get(
    "/entities/{entity_id:path}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def entity_page(
    request: Request, entity_id: EntityIdPath, store: StoreDep, actor: ActorDep
) -> HTMLResponse:
    """An entity with the dataset, origin and first/last seen of every value."""
    ctx = build_entity(store, entity_id)
    title = f"{ctx.entity.caption} ({ctx.entity.schema_label})"
    return render_page(request, "entity.html", ctx, title=title, actor=actor)
