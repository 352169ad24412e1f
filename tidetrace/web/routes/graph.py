"""Trace pages: the downstream and upstream tabs of an entity, with the Sankey and tables.

``GET /trace/{downstream|upstream}/{id}`` is a page; ``GET /api/trace/…`` and
``GET /api/exposure/{id}`` return the same data as JSON (the ``--json`` of the CLI). The
entity page links to the tabs through ``graph_entity_tabs.html`` (one include line).

Pages read the graph as last built; they never build it (a build over millions of trade
records belongs to ``tidetrace graph build``), and say so when new records have arrived.
The picture's scripts are the vendored d3 and d3-sankey under ``/static/vendor`` and
:file:`tidetrace/graph/assets/trace.js`, served from ``/graph/assets``, so the page runs
under the app's ``script-src 'self'`` policy.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from markupsafe import Markup

from tidetrace.exc import InputError, NotFoundError
from tidetrace.graph.build import graph_is_stale
from tidetrace.graph.exposure import exposure
from tidetrace.graph.flags import load_flag_index
from tidetrace.graph.graphdb import LoadedGraph, Window, open_graph
from tidetrace.graph.render import asset_path, trace_tables
from tidetrace.graph.trace import DEFAULT_MAX_DEPTH, MAX_DEPTH, trace
from tidetrace.web.context import doc
from tidetrace.web.deps import READ, ActorDep, EntityIdPath, StoreDep, WorkspaceDep
from tidetrace.web.render import render_page
from tidetrace.web.routes.entities import load_entity
from tidetrace.workspace import Workspace

__all__ = ["TraceContext", "TraceFilters", "build_trace", "include_routes", "router"]

router = APIRouter()

DirectionPath = Annotated[
    Literal["downstream", "upstream"],
    Path(description="downstream: where the goods went; upstream: where they came from."),
]
# Strings, not dates: the filter form sends an empty field as "" (no bound).
DateQuery = Annotated[
    str | None,
    Query(
        max_length=10,
        pattern=r"^(\d{4}-\d{2}-\d{2})?$",
        description="Arrival date bound (YYYY-MM-DD), inclusive.",
    ),
]
HsQuery = Annotated[
    str | None,
    Query(max_length=10, pattern=r"^\d{0,10}$", description="HS code prefix, e.g. 0307."),
]
DepthQuery = Annotated[int, Query(ge=1, le=MAX_DEPTH, description="Tiers to follow.")]
BasisQuery = Annotated[
    Literal["all", "observed", "asserted"],
    Query(description="Follow all edges, only trade records, or only documents."),
]
AssetPath = Annotated[str, Path(max_length=64, description="trace.js or trace.css")]


@dataclass
class TraceFilters:
    """The filter form's values."""

    since: date | None = field(metadata=doc("First arrival date counted, or None."))
    until: date | None = field(metadata=doc("Last arrival date counted, or None."))
    hs: str = field(metadata=doc("HS code prefix, or an empty string for all goods."))
    max_depth: int = field(metadata=doc("How many tiers are followed."))
    basis: str = field(metadata=doc("all, observed or asserted edges."))


@dataclass
class TraceContext:
    """What a trace tab shows; ``GET /api/trace/…`` returns ``data``."""

    entity_id: str = field(metadata=doc("Canonical id of the traced entity."))
    name: str = field(metadata=doc("Its display name."))
    schema_label: str = field(metadata=doc("Its schema's label."))
    tab: str = field(metadata=doc("The tab shown: downstream or upstream."))
    filters: TraceFilters = field(metadata=doc("The filter form's values."))
    data: dict[str, Any] | None = field(
        metadata=doc("The trace as JSON (None when the entity is not in the graph).")
    )
    tables: Markup = field(metadata=doc("Entities and paths tables, rendered and escaped."))
    reached: int = field(metadata=doc("How many entities the trace reached."))
    notices: list[str] = field(metadata=doc("What the reader should know (stale graph …)."))


def _graph(ws: Workspace) -> tuple[LoadedGraph | None, list[str]]:
    try:
        graph = open_graph(ws)
    except NotFoundError:
        return None, ["The supply graph has not been built yet: run 'tidetrace graph build'."]
    notices = []
    if graph_is_stale(ws):
        notices.append(
            f"New records arrived after graph {graph.version} was built; "
            "'tidetrace graph build' brings them in."
        )
    return graph, notices


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(name, f"not a date: {value!r}") from None


def _window(since: date | None, until: date | None, hs: str | None) -> Window:
    if since is not None and until is not None and since > until:
        raise InputError("since", "is after until")
    return Window(since, until, hs or None)


def build_trace(
    ws: Workspace,
    store: Any,
    entity_id: str,
    direction: str,
    filters: TraceFilters,
) -> TraceContext:
    """Fill a trace tab's context.

    Raises:
        NotFoundError: no such entity.
        InputError: a bad filter.
    """
    view = load_entity(store, entity_id)
    graph, notices = _graph(ws)
    data = None
    tables = Markup("")
    reached = 0
    if graph is not None:
        if view.id not in graph.index:
            notices.append("This entity has no supply links in the graph.")
        else:
            result = trace(
                graph,
                load_flag_index(ws.engine),
                view.id,
                direction,  # type: ignore[arg-type]
                _window(filters.since, filters.until, filters.hs),
                max_depth=filters.max_depth,
                basis=filters.basis,  # type: ignore[arg-type]
            )
            data = result.to_dict()
            tables = trace_tables(result, link=True)
            reached = len(result.nodes) - 1
            notices.extend(result.notes)
    return TraceContext(
        entity_id=view.id,
        name=view.caption,
        schema_label=view.schema_label,
        tab=direction,
        filters=filters,
        data=data,
        tables=tables,
        reached=reached,
        notices=notices,
    )


@router.get(
    "/trace/{direction}/{entity_id:path}",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def trace_page(
    request: Request,
    direction: DirectionPath,
    entity_id: EntityIdPath,
    ws: WorkspaceDep,
    store: StoreDep,
    actor: ActorDep,
    since: DateQuery = None,
    until: DateQuery = None,
    hs: HsQuery = None,
    max_depth: DepthQuery = DEFAULT_MAX_DEPTH,
    basis: BasisQuery = "all",
) -> HTMLResponse:
    """An entity's downstream or upstream trace: Sankey, network view and tables."""
    filters = TraceFilters(_date(since, "since"), _date(until, "until"), hs or "", max_depth, basis)
    ctx = build_trace(ws, store, entity_id, direction, filters)
    title = f"{ctx.name}: {direction}"
    return render_page(request, "graph_trace.html", ctx, title=title, actor=actor)


@router.get(
    "/api/trace/{direction}/{entity_id:path}",
    response_model=dict[str, Any],
    tags=["graph"],
    dependencies=[Depends(READ)],
)
def trace_api(
    direction: DirectionPath,
    entity_id: EntityIdPath,
    ws: WorkspaceDep,
    store: StoreDep,
    since: DateQuery = None,
    until: DateQuery = None,
    hs: HsQuery = None,
    max_depth: DepthQuery = DEFAULT_MAX_DEPTH,
    basis: BasisQuery = "all",
) -> dict[str, Any]:
    """The trace as JSON: ``start``, ``nodes`` (tier, kg …), ``paths`` of hops with evidence."""
    filters = TraceFilters(_date(since, "since"), _date(until, "until"), hs or "", max_depth, basis)
    ctx = build_trace(ws, store, entity_id, direction, filters)
    if ctx.data is None:
        raise NotFoundError(" ".join(ctx.notices) or "not in the graph")
    return ctx.data


@router.get(
    "/api/exposure/{entity_id:path}",
    response_model=dict[str, Any],
    tags=["graph"],
    dependencies=[Depends(READ)],
)
def exposure_api(
    entity_id: EntityIdPath,
    ws: WorkspaceDep,
    store: StoreDep,
    since: DateQuery = None,
    until: DateQuery = None,
    hs: HsQuery = None,
    max_depth: DepthQuery = DEFAULT_MAX_DEPTH,
) -> dict[str, Any]:
    """How much of what an entity received can trace to flagged entities, and via whom."""
    view = load_entity(store, entity_id)
    graph, notices = _graph(ws)
    if graph is None or view.id not in graph.index:
        raise NotFoundError(" ".join(notices) or "this entity has no supply links in the graph")
    result = exposure(
        graph,
        load_flag_index(ws.engine),
        view.id,
        _window(_date(since, "since"), _date(until, "until"), hs),
        max_depth=max_depth,
    )
    return result.to_dict()


@router.get(
    "/graph/assets/{name}",
    include_in_schema=False,
    dependencies=[Depends(READ)],
)
def graph_asset(name: AssetPath) -> FileResponse:
    """The trace pictures' own script and stylesheet."""
    path = asset_path(name)
    if path is None:
        raise NotFoundError("no such asset")
    media = "text/javascript" if path.suffix == ".js" else "text/css"
    return FileResponse(path, media_type=f"{media}; charset=utf-8")


def include_routes(app: FastAPI) -> None:
    """Add the graph, screening and ``/match`` routes to the app (one call in ``create_app``)."""
    from tidetrace.web.routes import match, screen

    for module_router in (router, screen.router, match.router):
        app.include_router(module_router)
