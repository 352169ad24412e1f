"""The ingest manifest on every storage backend: start, resume, reset, finish."""

from tidetrace.shipments.manifest import Manifest
from tidetrace.workspace import Workspace

VALUES = {
    "source_file": "a.csv",
    "size": 10,
    "layout": "generic",
    "encoding": "utf-8",
    "actor": "t",
}


def test_begin_resume_reset(any_workspace: Workspace) -> None:
    manifest = Manifest(any_workspace.engine)
    first = manifest.begin("ds", "f" * 64, VALUES, "duckdb", 100)
    assert (first.status, first.fresh, first.chunk_rows) == ("running", True, 100)
    manifest.chunk_done(first.id, 0, 100, 1)
    manifest.chunk_done(first.id, 2, 100, 0)
    # Same engine: resumed with its own chunk size and the staged chunks.
    again = manifest.begin("ds", "f" * 64, VALUES, "duckdb", 5000)
    assert (again.id, again.fresh, again.chunk_rows, again.done_chunks) == (
        first.id,
        False,
        100,
        {0, 2},
    )
    # Another engine cannot reuse the staging: same ingest number, a fresh start.
    other = manifest.begin("ds", "f" * 64, VALUES, "spark", 5000)
    assert (other.id, other.fresh, other.engine, other.done_chunks) == (
        first.id,
        True,
        "spark",
        set(),
    )
    manifest.set_status(other.id, "done", rows=10, rejected=1, finished_at="2026-01-01T00:00:00")
    done = manifest.begin("ds", "f" * 64, VALUES, "duckdb", 100)
    assert (done.status, done.rows, done.rejected) == ("done", 10, 1)
    # The same content in another dataset is another ingest.
    elsewhere = manifest.begin("other", "f" * 64, VALUES, "duckdb", 100)
    assert elsewhere.id != first.id and elsewhere.fresh
    listed = manifest.list()
    assert [(r["dataset"], r["status"]) for r in listed] == [("ds", "done"), ("other", "running")]


def test_failed_ingest_starts_over(any_workspace: Workspace) -> None:
    manifest = Manifest(any_workspace.engine)
    record = manifest.begin("ds", "e" * 64, VALUES, "duckdb", 100)
    manifest.chunk_done(record.id, 0, 1, 99)
    manifest.set_status(record.id, "failed", rejected=99)
    manifest.clear_chunks(record.id)
    retry = manifest.begin("ds", "e" * 64, VALUES, "duckdb", 100)
    assert (retry.id, retry.status, retry.fresh, retry.done_chunks) == (
        record.id,
        "running",
        True,
        set(),
    )
