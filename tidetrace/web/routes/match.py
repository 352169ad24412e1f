"""``POST /match/{dataset}``: yente's matching API, answered by tidetrace.

Existing yente clients work unchanged: point them at ``http://host/api`` (the
``/api/match/{dataset}`` route, whose errors are JSON like yente's) or at the host itself
(``/match/{dataset}``). Request and response shapes are in :mod:`tidetrace.screen.yente`.

Who may call it: readers. A client either sends ``Authorization: ApiKey <key>`` (issued
with ``tidetrace match-keys add``; no browser sends that header on its own, so no CSRF
token is needed), or uses a logged-in session and then, as every JSON POST of the app,
the ``X-CSRF-Token`` header.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from tidetrace.auth.roles import READERS
from tidetrace.exc import InputError, TidetraceError
from tidetrace.screen.apikeys import check_key
from tidetrace.screen.index import get_index
from tidetrace.screen.matching import ALGORITHM, DEFAULT_THRESHOLD
from tidetrace.screen.yente import (
    MATCH_PAGE,
    MAX_MATCHES,
    EntityMatchQuery,
    EntityMatchResponse,
    ErrorResponse,
    MatchOptions,
    match_queries,
)
from tidetrace.web.deps import Actor, ActorDep, Allow, WorkspaceDep, get_workspace

__all__ = ["MatchAllow", "router"]

router = APIRouter()
# The body is read and validated here so that a malformed one is answered like yente does
# (400 with a JSON detail) on both paths, not as the app's 422 page.
MAX_BODY = 5 * 1024 * 1024


class InvalidApiKey(TidetraceError):
    """The ``Authorization: ApiKey`` header carries no valid key."""

    STATUS = 401


class MatchAllow(Allow):
    """Readers, by API key (no CSRF: browsers never send it unasked) or by session + CSRF."""

    async def __call__(self, request: Request, actor: ActorDep) -> Actor:
        """Admit a valid API key's user if a reader, else fall back to the session rules.

        Raises:
            InvalidApiKey: an ``ApiKey`` header with an unknown or withdrawn key.
            PermissionDenied: the key's user is not a reader.
        """
        header = request.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() in ("apikey", "bearer") and key.strip():
            user = check_key(get_workspace(request).engine, key)
            if user is None:
                raise InvalidApiKey("invalid or withdrawn API key")
            keyed = Actor(user=user)
            # Same role rule as any reader route.
            if user.role not in self.roles:
                from tidetrace.exc import PermissionDenied

                raise PermissionDenied(f"your role ({user.role.value}) may not use this page")
            request.state.actor = keyed
            return keyed
        return await super().__call__(request, actor)


MATCH = MatchAllow(READERS)
DatasetPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="default, sanctions, facilities, parties, flagged, or a dataset name",
    ),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid query"},
    401: {"model": ErrorResponse, "description": "No session or API key"},
    403: {"model": ErrorResponse, "description": "Role not admitted, or no CSRF token"},
    404: {"model": ErrorResponse, "description": "Unknown dataset"},
}


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def _match(
    request: Request,
    ws: Any,
    dataset: str,
    options: MatchOptions,
) -> JSONResponse:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return _error(400, "request body too large")
    try:
        body = EntityMatchQuery.model_validate(json.loads(raw or b"null"))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0][:200]
        return _error(400, f"Invalid query: {first}")
    try:
        result: EntityMatchResponse = match_queries(get_index(ws), dataset, body, options)
    except InputError as exc:
        return _error(400, exc.reason)
    except TidetraceError as exc:
        return _error(404 if exc.status == 404 else 400, exc.detail)
    response = JSONResponse(result.model_dump(by_alias=True, mode="json"))
    response.headers["x-batch-size"] = str(len(result.responses))
    return response


def _options(
    limit: Annotated[
        int, Query(ge=1, le=MAX_MATCHES, title="Number of results to return")
    ] = MATCH_PAGE,
    threshold: Annotated[
        float, Query(ge=0.0, le=1.0, title="Score at which a result is a match")
    ] = DEFAULT_THRESHOLD,
    cutoff: Annotated[
        float,
        Query(ge=0.0, le=1.0, deprecated=True, title="Results at or below this score are left out"),
    ] = DEFAULT_THRESHOLD,
    algorithm: Annotated[
        str, Query(max_length=64, title="Accepted for yente compatibility")
    ] = ALGORITHM,
    include_dataset: Annotated[list[str], Query(title="Only entities of these datasets")] = [],  # noqa: B006
    exclude_schema: Annotated[list[str], Query(title="Leave out these schemata")] = [],  # noqa: B006
    exclude_dataset: Annotated[list[str], Query(title="Leave out these datasets")] = [],  # noqa: B006
    topics: Annotated[list[str], Query(title="Only entities with one of these topics")] = [],  # noqa: B006
    changed_since: Annotated[
        str | None, Query(max_length=32, title="Only entities seen since")
    ] = None,
    exclude_entity_ids: Annotated[
        list[str], Query(max_length=50, title="Leave out these entities")
    ] = [],  # noqa: B006
) -> MatchOptions:
    return MatchOptions(
        limit=limit,
        threshold=threshold,
        cutoff=cutoff,
        algorithm=algorithm,
        include_dataset=include_dataset,
        exclude_schema=exclude_schema,
        exclude_dataset=exclude_dataset,
        topics=topics,
        changed_since=changed_since,
        exclude_entity_ids=exclude_entity_ids,
    )


OptionsDep = Annotated[MatchOptions, Depends(_options)]
_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EntityMatchQuery.model_json_schema()}},
    }
}


@router.post(
    "/match/{dataset}",
    response_model=EntityMatchResponse,
    responses=ERRORS,
    tags=["matching"],
    summary="Query by example (yente-compatible)",
    dependencies=[Depends(MATCH)],
    openapi_extra=_BODY_DOC,
)
async def match(
    request: Request, dataset: DatasetPath, ws: WorkspaceDep, options: OptionsDep
) -> JSONResponse:
    """Match example entities against facilities, sanctions lists and trade parties.

    Body: ``{"queries": {"q1": {"schema": "Company", "properties": {"name": ["…"]}}}}``.
    Each response lists results with ``score`` (0-1), ``match`` (score ≥ threshold),
    ``features`` and ``explanations``, and tidetrace's ``flags``.
    """
    return await _match(request, ws, dataset, options)


@router.post(
    "/api/match/{dataset}",
    response_model=EntityMatchResponse,
    responses=ERRORS,
    tags=["matching"],
    summary="Query by example (yente-compatible; JSON errors)",
    dependencies=[Depends(MATCH)],
    openapi_extra=_BODY_DOC,
)
async def api_match(
    request: Request, dataset: DatasetPath, ws: WorkspaceDep, options: OptionsDep
) -> JSONResponse:
    """The same as ``POST /match/{dataset}``, under ``/api`` (point yente clients here)."""
    return await _match(request, ws, dataset, options)
