"""Shared fixtures for the shipments tests: synthetic files and one SparkSession."""

from collections.abc import Iterator
from typing import Any

import pytest

from tidetrace.shipments.synth import SynthResult, write_synth


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """1,500 synthetic filings in every layout (AMS tables included), 500 rows per file."""
    return write_synth(tmp_path_factory.mktemp("synth"), 1500, seed=11, rows_per_file=500)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local SparkSession for the whole test session (starting one takes ~15 s)."""
    from tidetrace.shipments.spark import get_spark, stop_spark

    yield get_spark("local[2]")
    stop_spark()
