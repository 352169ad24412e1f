"""yente's ``/match`` request and response, answered from the screening index.

The shapes follow yente's ``routers/match.py`` and ``data/common.py`` (OpenSanctions, MIT):
a request ``{"queries": {"q1": {"schema": "Company", "properties": {"name": [...]}}}}``
gets ``{"responses": {"q1": {"status": 200, "results": [...], "total": {...},
"query": {...}}}, "matcher": {...}, "limit": 5}``. Each result is an entity (``id``,
``caption``, ``schema``, ``properties``, ``datasets``, ``referents``, ``target``,
``first_seen``, ``last_seen``, ``last_change``) plus ``score``, ``match`` and ``features``;
newer yente clients read ``explanations``, which is there too. tidetrace adds ``flags``:
clients that do not know it ignore it.

Semantics as in yente: ``match`` is ``score >= threshold`` (default 0.7); results scoring
at or below ``cutoff`` (deprecated; never above the threshold) are left out; ``total``
counts matches; ``limit`` caps the results per query (default 5, at most 500); at most 100
queries per batch.

The ``{dataset}`` path segment scopes the candidates: ``default`` (everything),
``sanctions`` (entities with a sanction topic), ``facilities``, ``parties`` (trade parties
in the graph), ``flagged``, or the name of any dataset in the store.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tidetrace.exc import InputError, NotFoundError
from tidetrace.screen.index import TRADE_DATASET, ScreenIndex
from tidetrace.screen.matching import (
    ALGORITHM,
    ALGORITHM_ALIASES,
    DEFAULT_THRESHOLD,
    ScoredMatch,
    example_record,
    feature_docs,
    match_example,
)

__all__ = [
    "MATCH_PAGE",
    "MAX_BATCH",
    "MAX_MATCHES",
    "EntityExample",
    "EntityMatchQuery",
    "EntityMatchResponse",
    "ErrorResponse",
    "MatchOptions",
    "match_queries",
]

MATCH_PAGE = 5
MAX_MATCHES = 500
MAX_BATCH = 100
SCOPES = ("default", "all", "sanctions", "facilities", "parties", "flagged")


class ErrorResponse(BaseModel):
    """An error, as yente sends it."""

    detail: str = Field(..., examples=["Detailed error message"])


class EntityExample(BaseModel):
    """A query: a schema and properties, as an FtM entity would have them."""

    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(None, examples=["my-entity-id"])
    schema_: str = Field(..., alias="schema", examples=["Company"])
    properties: dict[str, str | list[Any]] = Field(
        ..., examples=[{"name": ["Dalian Haiqing Food Co., Ltd."], "country": ["cn"]}]
    )


class EntityMatchQuery(BaseModel):
    """A batch of queries, keyed by names the client chooses."""

    weights: dict[str, float] = Field({}, description="Accepted for yente compatibility.")
    config: dict[str, Any] = Field({}, description="Accepted for yente compatibility.")
    queries: dict[str, EntityExample | None]


class FeatureDocModel(BaseModel):
    """What a feature means and its weight in the score."""

    description: str | None
    coefficient: float
    url: str


class ExplanationModel(BaseModel):
    """Why a feature scored as it did."""

    score: float
    detail: str | None = None
    weight: float | None = None
    contribution: float | None = None
    query: str | None = None
    candidate: str | None = None


class ScoredEntityResponse(BaseModel):
    """A result: the entity, its score, and the features behind it."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    caption: str
    schema_: str = Field(..., alias="schema")
    properties: dict[str, list[str]]
    datasets: list[str] = []
    referents: list[str] = []
    target: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    last_change: datetime | None = None
    score: float
    match: bool
    features: dict[str, float]
    explanations: dict[str, ExplanationModel] = {}
    flags: list[dict[str, Any]] = Field([], description="tidetrace flags of the entity.")


class TotalSpec(BaseModel):
    """How many results matched."""

    value: int
    relation: str = "eq"


class EntityMatches(BaseModel):
    """The answer to one query."""

    status: int = 200
    results: list[ScoredEntityResponse]
    total: TotalSpec
    query: EntityExample


class EntityMatchResponse(BaseModel):
    """The answer to a batch."""

    responses: dict[str, EntityMatches]
    matcher: dict[str, FeatureDocModel]
    limit: int


class MatchOptions(BaseModel):
    """The query-string options of ``/match``."""

    limit: int = MATCH_PAGE
    threshold: float = DEFAULT_THRESHOLD
    cutoff: float = DEFAULT_THRESHOLD
    algorithm: str = ALGORITHM
    include_dataset: list[str] = []
    exclude_dataset: list[str] = []
    exclude_schema: list[str] = []
    topics: list[str] = []
    changed_since: str | None = None
    exclude_entity_ids: list[str] = []


def _timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _scope(index: ScreenIndex, dataset: str) -> Callable[[int], bool] | None:
    """The entries a dataset path segment covers; NotFoundError for an unknown one."""
    name = dataset.strip().lower()
    entries = index.entries
    if name in ("default", "all"):
        return None
    if name == "sanctions":
        return lambda i: any(t.startswith("sanction") for t in entries[i].topics)
    if name == "facilities":
        return lambda i: entries[i].schema == "Facility"
    if name == "parties":
        graph_ids = index.graph_ids
        return lambda i: entries[i].id in graph_ids or TRADE_DATASET in entries[i].datasets
    if name == "flagged":
        return lambda i: entries[i].id in index.flags
    if name in index.datasets:
        return lambda i: name in entries[i].datasets
    raise NotFoundError(f"no dataset {dataset!r}; use one of {', '.join(SCOPES)} or a dataset name")


def _filters(index: ScreenIndex, options: MatchOptions) -> list[Callable[[int], bool]]:
    entries = index.entries
    checks: list[Callable[[int], bool]] = []
    if options.include_dataset:
        wanted = set(options.include_dataset)
        checks.append(lambda i: bool(wanted & set(entries[i].datasets)))
    if options.exclude_dataset:
        unwanted = set(options.exclude_dataset)
        checks.append(lambda i: not set(entries[i].datasets) <= unwanted)
    if options.exclude_schema:
        schemata = set(options.exclude_schema)
        checks.append(lambda i: entries[i].schema not in schemata)
    if options.topics:
        topics = set(options.topics)
        checks.append(lambda i: bool(topics & set(entries[i].topics)))
    if options.changed_since:
        since = options.changed_since
        checks.append(lambda i: (entries[i].last_seen or "") >= since)
    if options.exclude_entity_ids:
        excluded = set(options.exclude_entity_ids)
        checks.append(
            lambda i: entries[i].id not in excluded and not excluded & set(entries[i].referents)
        )
    return checks


def _result(match: ScoredMatch) -> ScoredEntityResponse:
    entry = match.entry
    return ScoredEntityResponse(
        id=entry.id,
        caption=entry.caption,
        schema=entry.schema,
        properties=entry.properties,
        datasets=entry.datasets,
        referents=entry.referents,
        target=bool(match.flags) or any(t.startswith("sanction") for t in entry.topics),
        first_seen=_timestamp(entry.first_seen),
        last_seen=_timestamp(entry.last_seen),
        last_change=_timestamp(entry.last_seen),
        score=match.score,
        match=match.match,
        features=match.features,
        explanations={k: ExplanationModel(**v) for k, v in match.explanations.items()},
        flags=match.flags,
    )


def match_queries(
    index: ScreenIndex, dataset: str, body: EntityMatchQuery, options: MatchOptions
) -> EntityMatchResponse:
    """Answer a ``/match/{dataset}`` request.

    Raises:
        InputError: a bad option or example (HTTP 400 in the API).
        NotFoundError: an unknown dataset (HTTP 404).
    """
    if not 1 <= options.limit <= MAX_MATCHES:
        raise InputError("limit", f"must be between 1 and {MAX_MATCHES}")
    if not 0.0 <= options.threshold <= 1.0:
        raise InputError("threshold", "must be between 0 and 1")
    if options.algorithm not in ALGORITHM_ALIASES:
        raise InputError("algorithm", f"unknown algorithm {options.algorithm!r}")
    if len(body.queries) > MAX_BATCH:
        raise InputError("queries", f"Too many queries in one batch (limit: {MAX_BATCH})")
    scope = _scope(index, dataset)
    checks = _filters(index, options)
    if scope is not None:
        checks.insert(0, scope)

    def accept(i: int) -> bool:
        return all(check(i) for check in checks)

    cutoff = min(options.cutoff, options.threshold)
    responses: dict[str, EntityMatches] = {}
    for name, example in body.queries.items():
        if example is None:
            continue
        try:
            record = example_record(example.schema_, example.properties, example.id or name)
        except InputError as exc:
            raise InputError(
                "queries", f"Cannot parse example entity {name!r}: {exc.reason}"
            ) from None
        total, results = match_example(
            index,
            record,
            limit=options.limit,
            threshold=options.threshold,
            cutoff=cutoff,
            accept=accept if checks else None,
        )
        responses[name] = EntityMatches(
            status=200,
            results=[_result(m) for m in results],
            total=TotalSpec(value=total, relation="eq"),
            query=example,
        )
    if not responses:
        raise InputError("queries", "No queries provided.")
    return EntityMatchResponse(
        responses=responses,
        matcher={k: FeatureDocModel(**v) for k, v in feature_docs().items()},
        limit=options.limit,
    )
