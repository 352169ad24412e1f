"""Pydantic response models of the JSON API (they are what /openapi.json documents).

Each mirrors a page context or a view dataclass and is filled from it with
``Model.model_validate(obj)`` (``from_attributes``), so pages and API cannot drift.
"""

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DatasetModel",
    "DatasetsResponse",
    "EntityResponse",
    "ErrorResponse",
    "HealthResponse",
    "RelatedModel",
    "SearchHitModel",
    "SearchResponse",
    "SessionResponse",
    "ValueRowModel",
]


class _Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorResponse(_Model):
    """Every error the API returns."""

    detail: str = Field(description="What went wrong, in one line.")


class HealthResponse(_Model):
    """The service is up and its database answers."""

    status: str = Field(description="'ok'.")


class SessionResponse(_Model):
    """The logged-in user, and the token JSON POSTs must send as ``X-CSRF-Token``."""

    user: str = Field(description="User name.")
    role: str = Field(description="admin, investigator, analyst or public.")
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on POST/PUT/DELETE.")


class SearchHitModel(_Model):
    """One search result."""

    id: str = Field(description="Canonical entity id.")
    schema_: str = Field(alias="schema", description="FtM schema name.")
    caption: str = Field(description="The entity's display name.")
    datasets: list[str] = Field(description="Datasets the entity has values in.")
    score: float = Field(description="Higher is better; identifier matches score highest.")
    matched: list[str] = Field(description="What matched: 'name' and/or 'identifier'.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class SearchResponse(_Model):
    """Search results."""

    query: str = Field(description="The query as searched (control characters removed).")
    schema_: str | None = Field(alias="schema", description="The schema filter, if any.")
    limit: int = Field(description="The largest number of results asked for.")
    results: list[SearchHitModel] = Field(description="Matching entities, best first.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class ValueRowModel(_Model):
    """One value of one property, with where it came from."""

    prop: str = Field(description="Property name.")
    prop_label: str = Field(description="Property label.")
    prop_type: str = Field(description="FtM property type (name, identifier, entity …).")
    value: str = Field(description="The cleaned value.")
    original_value: str | None = Field(description="The value as the source wrote it.")
    lang: str | None = Field(description="Language of the value (ISO 639-3), when known.")
    dataset: str = Field(description="Dataset the value comes from.")
    origin: str | None = Field(description="Where in the dataset (file, record, URL).")
    first_seen: str = Field(description="When the value was first imported.")
    last_seen: str = Field(description="When the value was last imported.")


class RelatedModel(_Model):
    """An entity that points at this one (a sanction, a supply link, a reply …)."""

    id: str = Field(description="Entity id.")
    schema_: str = Field(alias="schema", description="FtM schema name.")
    caption: str = Field(description="Display name.")
    summary: list[str] = Field(description="A few 'Property: value' lines.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class EntityResponse(_Model):
    """An entity with every value's provenance and the entities pointing at it."""

    id: str = Field(description="Canonical entity id.")
    schema_: str = Field(alias="schema", description="FtM schema name.")
    schema_label: str = Field(description="Schema label.")
    caption: str = Field(description="Display name.")
    datasets: list[str] = Field(description="Datasets the entity has values in.")
    topics: list[str] = Field(description="FtM topic codes, e.g. 'sanction'.")
    values: list[ValueRowModel] = Field(description="One row per value, with provenance.")
    related: list[RelatedModel] = Field(description="Entities pointing at this one.")

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class DatasetModel(_Model):
    """A dataset and where its data came from."""

    name: str = Field(description="Machine name.")
    title: str = Field(description="Human title.")
    publisher: str | None = Field(description="Who publishes the source.")
    licence: str | None = Field(description="Licence or terms.")
    url: str | None = Field(description="Where the source can be had.")
    retrieved: str | None = Field(description="When it was retrieved (ISO date).")
    summary: str | None = Field(description="What it holds.")
    entities: int = Field(description="How many entities it holds.")


class DatasetsResponse(_Model):
    """Every dataset."""

    datasets: list[DatasetModel] = Field(description="Datasets by name.")
