"""The home page: what tidetrace is, and (for readers) what the store holds."""

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tidetrace.model import model
from tidetrace.web.context import doc
from tidetrace.web.deps import PUBLIC, ActorDep, StoreDep
from tidetrace.web.render import render_page

__all__ = ["HomeContext", "SchemaCount", "router"]

router = APIRouter()


@dataclass
class SchemaCount:
    """How many entities of one schema the store holds."""

    schema: str = field(metadata=doc("FtM schema name."))
    label: str = field(metadata=doc("Plural label of the schema."))
    count: int = field(metadata=doc("Number of entities."))


@dataclass
class HomeContext:
    """What the home page shows."""

    counts: list[SchemaCount] = field(
        metadata=doc("Entities per schema, largest first; empty unless the actor may read.")
    )
    total: int = field(metadata=doc("Entities in the store; 0 unless the actor may read."))


@router.get(
    "/", response_class=HTMLResponse, include_in_schema=False, dependencies=[Depends(PUBLIC)]
)
def home_page(request: Request, store: StoreDep, actor: ActorDep) -> HTMLResponse:
    """What tidetrace is; counts per schema for logged-in readers."""
    counts: list[SchemaCount] = []
    # Anonymous visitors learn nothing about what an investigation holds.
    if actor.can_read:
        for name, count in store.count_by_schema().items():
            schema = model.get(name)
            counts.append(SchemaCount(name, schema.plural if schema is not None else name, count))
        counts.sort(key=lambda c: (-c.count, c.label))
    ctx = HomeContext(counts=counts, total=sum(c.count for c in counts))
    return render_page(request, "home.html", ctx, title="tidetrace", actor=actor)
