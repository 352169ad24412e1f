"""Shared fixtures for the shipments tests: synthetic files and one SparkSession."""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.shipments.support import ingest, make_workspace
from tidetrace.shipments.synth import SynthResult, write_synth
from tidetrace.workspace import Workspace


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """1,500 synthetic filings of 2023 in every layout (AMS included), 500 rows per file."""
    period = (date(2023, 1, 1), date(2023, 12, 31))
    return write_synth(
        tmp_path_factory.mktemp("synth"), 1500, seed=11, rows_per_file=500, period=period
    )


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local SparkSession for the whole test session (starting one takes ~15 s)."""
    from tidetrace.shipments.spark import get_spark, stop_spark

    yield get_spark("local[2]")
    stop_spark()


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, synth_small: SynthResult) -> Workspace:
    """A workspace with ``synth_small`` ingested into dataset ``synth`` (read-only use)."""
    ws = make_workspace(tmp_path_factory.mktemp("ingested") / "ws")
    report = ingest(ws, synth_small.files, dataset="synth", chunk_rows=400)
    assert not report.failed
    return ws
