"""Fixtures for the resolution tests: a Spark session (once), stores with test entities."""

from collections.abc import Iterator
from typing import Any

import pytest

from tidetrace.model import model
from tidetrace.store.datasets import DatasetInfo
from tidetrace.store.entities import EntityStore
from tidetrace.workspace import Workspace

TEST_DATASET = DatasetInfo(name="resolve_test", title="Resolution test entities")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local SparkSession (2 cores) for every Spark test of the session."""
    pytest.importorskip("pyspark")
    from tidetrace.resolve.engine_spark import local_session

    session = local_session(cores=2)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def add_entities(
    ws: Workspace, rows: list[dict[str, Any]], dataset: DatasetInfo = TEST_DATASET
) -> None:
    """Add entities given as ``{"id", "schema", prop: value or [values] …}`` to the store."""
    entities = []
    for row in rows:
        entity = model.make_entity(row["schema"])
        entity.id = row["id"]
        for prop, value in row.items():
            if prop in ("id", "schema"):
                continue
            entity.add(prop, value)
        entities.append(entity)
    EntityStore(ws.engine).add_entities(entities, dataset)
