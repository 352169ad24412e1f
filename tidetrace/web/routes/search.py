"""The search page: a form, a schema filter and a table of matching entities."""

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from tidetrace.exc import TidetraceError
from tidetrace.model import model
from tidetrace.store.entities import EntityStore, SearchHit
from tidetrace.web.context import doc
from tidetrace.web.deps import (
    READ,
    ActorDep,
    LimitQuery,
    SchemaQuery,
    SearchQuery,
    StoreDep,
    clean_text,
)
from tidetrace.web.render import render_page

__all__ = ["SchemaOption", "SearchContext", "build_search", "router"]

router = APIRouter()


@dataclass
class SchemaOption:
    """One choice of the schema filter."""

    name: str = field(metadata=doc("FtM schema name, e.g. Vessel."))
    label: str = field(metadata=doc("Human label of the schema."))
    count: int = field(metadata=doc("How many entities of this schema the store holds."))


@dataclass
class SearchContext:
    """What the search page and ``GET /api/search`` show."""

    query: str = field(metadata=doc("The search text, control characters removed."))
    schema: str | None = field(metadata=doc("The schema filter, or None for all schemata."))
    limit: int = field(metadata=doc("The largest number of results asked for."))
    results: list[SearchHit] = field(metadata=doc("Matching entities, best first."))
    schemas: list[SchemaOption] = field(
        metadata=doc("Schemata present in the store, for the filter.")
    )
    searched: bool = field(metadata=doc("Whether a query was given (else only the form shows)."))


def schema_options(store: EntityStore) -> list[SchemaOption]:
    """The schemata in the store, by label."""
    options = []
    for name, count in store.count_by_schema().items():
        schema = model.get(name)
        options.append(SchemaOption(name, schema.label if schema is not None else name, count))
    return sorted(options, key=lambda o: o.label)


def build_search(store: EntityStore, query: str, schema: str | None, limit: int) -> SearchContext:
    """Run a search and fill its context.

    Raises:
        TidetraceError: (422) the schema filter names no FtM schema.
    """
    query = clean_text(query)
    schema = clean_text(schema) if schema is not None else None
    if not schema:
        schema = None
    if schema is not None and model.get(schema) is None:
        raise TidetraceError(f"unknown schema {schema!r}", status=422)
    results = store.search(query, schema=schema, limit=limit) if query else []
    return SearchContext(
        query=query,
        schema=schema,
        limit=limit,
        results=results,
        schemas=schema_options(store),
        searched=bool(query),
    )


@router.get(
    "/search",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def search_page(
    request: Request,
    store: StoreDep,
    actor: ActorDep,
    q: SearchQuery = "",
    schema: SchemaQuery = None,
    limit: LimitQuery = 20,
) -> HTMLResponse:
    """Search entities by name (any script) or identifier."""
    ctx = build_search(store, q, schema, limit)
    title = f"Search: {ctx.query}" if ctx.searched else "Search"
    return render_page(request, "search.html", ctx, title=title, actor=actor)
