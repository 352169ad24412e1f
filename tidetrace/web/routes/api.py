"""The JSON API: the same contexts as the pages, as documented response models.

Anonymous calls get 401 (not a redirect), and JSON POSTs made with a session cookie must
send the session's CSRF token as ``X-CSRF-Token`` (``GET /api/session`` tells it).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import text

from tidetrace.web.deps import (
    LOGGED_IN,
    PUBLIC,
    READ,
    ActorDep,
    EntityIdPath,
    LimitQuery,
    SchemaQuery,
    StoreDep,
    WorkspaceDep,
)
from tidetrace.web.models import (
    DatasetsResponse,
    EntityResponse,
    ErrorResponse,
    HealthResponse,
    SearchResponse,
    SessionResponse,
)
from tidetrace.web.routes.datasets import build_datasets
from tidetrace.web.routes.entities import load_entity
from tidetrace.web.routes.search import build_search

__all__ = ["router"]

router = APIRouter()

# Errors every reader route may answer with, for the OpenAPI document.
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Not logged in."},
    403: {"model": ErrorResponse, "description": "The user's role may not use this."},
    422: {"model": ErrorResponse, "description": "Invalid parameters."},
}
ApiQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=500,
        description="Name (any script) or identifier, e.g. an IMO number.",
    ),
]


@router.get(
    "/healthz",
    summary="Health check",
    response_model=HealthResponse,
    tags=["service"],
    dependencies=[Depends(PUBLIC)],
    responses={500: {"model": ErrorResponse}},
)
def healthz(ws: WorkspaceDep) -> HealthResponse:
    """Whether the service is up and its database answers (says nothing else)."""
    with ws.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return HealthResponse(status="ok")


@router.get(
    "/api/session",
    summary="Current session",
    response_model=SessionResponse,
    tags=["session"],
    dependencies=[Depends(LOGGED_IN)],
    responses=READ_ERRORS,
)
def api_session(actor: ActorDep) -> SessionResponse:
    """The logged-in user, role, and the CSRF token for JSON POSTs."""
    # LOGGED_IN guarantees a user and a session token.
    assert actor.user is not None and actor.csrf_token is not None
    return SessionResponse(
        user=actor.user.name, role=actor.user.role.value, csrf_token=actor.csrf_token
    )


@router.get(
    "/api/search",
    summary="Search entities",
    response_model=SearchResponse,
    tags=["entities"],
    dependencies=[Depends(READ)],
    responses=READ_ERRORS,
)
def api_search(
    store: StoreDep, q: ApiQuery, schema: SchemaQuery = None, limit: LimitQuery = 20
) -> SearchResponse:
    """Find entities by name (any script) or by an exact identifier (IMO number …)."""
    return SearchResponse.model_validate(build_search(store, q, schema, limit))


@router.get(
    "/api/entities/{entity_id:path}",
    summary="Get an entity with provenance",
    response_model=EntityResponse,
    tags=["entities"],
    dependencies=[Depends(READ)],
    responses={**READ_ERRORS, 404: {"model": ErrorResponse, "description": "No such entity."}},
)
def api_entity(entity_id: EntityIdPath, store: StoreDep) -> EntityResponse:
    """An entity: every value with its dataset, origin and first/last seen; related entities."""
    return EntityResponse.model_validate(load_entity(store, entity_id))


@router.get(
    "/api/datasets",
    summary="List datasets",
    response_model=DatasetsResponse,
    tags=["datasets"],
    dependencies=[Depends(READ)],
    responses=READ_ERRORS,
)
def api_datasets(ws: WorkspaceDep) -> DatasetsResponse:
    """Every dataset with publisher, licence, source URL, retrieval date and entity count."""
    return DatasetsResponse.model_validate(build_datasets(ws))
