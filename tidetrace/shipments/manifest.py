"""The ingest manifest: which sources are in which dataset, and how far a run got.

A source is known by its content hash, so the same file under another name (or the same
AMS tables) is recognised. Each chunk whose output is safely staged is recorded before
the next one starts; a run killed at any point re-runs the missing chunks only.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from tidetrace.shipments.tables import shipment_chunk_table, shipment_ingest_table
from tidetrace.store.entities import utc_now

__all__ = ["IngestRecord", "Manifest"]

ingest_t = shipment_ingest_table
chunk_t = shipment_chunk_table


@dataclass
class IngestRecord:
    """A source's manifest entry.

    Attributes:
        id: the ingest number (``ingest_seq`` in the rows).
        status: ``running``, ``publishing``, ``done`` or ``failed``.
        chunk_rows: rows per chunk this ingest was started with.
        engine: the engine it was started with.
        done_chunks: chunks already staged.
        fresh: True when nothing of an earlier attempt can be reused.
        rows: stored rows (when done).
        rejected: rejected rows (when done or failed).
        finished_at: when it finished.
    """

    id: int
    status: str
    chunk_rows: int
    engine: str
    done_chunks: set[int] = field(default_factory=set)
    fresh: bool = True
    rows: int = 0
    rejected: int = 0
    finished_at: str | None = None


class Manifest:
    """Manifest operations, each in its own short transaction.

    Args:
        engine: the app database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def begin(
        self,
        dataset: str,
        sha256: str,
        values: dict[str, Any],
        engine_name: str,
        chunk_rows: int,
    ) -> IngestRecord:
        """Start (or resume) ingesting a source into a dataset.

        Args:
            dataset: the dataset.
            sha256: the source's content hash.
            values: ``source_file``, ``size``, ``layout``, ``encoding``, ``actor``.
            engine_name: ``duckdb`` or ``spark``.
            chunk_rows: rows per chunk for a new attempt.

        Returns:
            The record. ``status == "done"`` means there is nothing to do. An unfinished
            attempt with the same engine is resumed with its own chunk size; a failed one
            or one from another engine starts over under the same ingest number.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                select(ingest_t).where(ingest_t.c.dataset == dataset, ingest_t.c.sha256 == sha256)
            ).first()
            if row is None:
                result = conn.execute(
                    insert(ingest_t).values(
                        dataset=dataset,
                        sha256=sha256,
                        engine=engine_name,
                        chunk_rows=chunk_rows,
                        status="running",
                        rows=0,
                        rejected=0,
                        started_at=utc_now(),
                        **values,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                return IngestRecord(int(key[0]), "running", chunk_rows, engine_name)
            if row.status == "done":
                return IngestRecord(
                    row.id,
                    "done",
                    row.chunk_rows,
                    row.engine,
                    fresh=False,
                    rows=row.rows,
                    rejected=row.rejected,
                    finished_at=row.finished_at,
                )
            if row.status in ("running", "publishing") and row.engine == engine_name:
                done = {
                    r.chunk
                    for r in conn.execute(
                        select(chunk_t.c.chunk).where(chunk_t.c.ingest_id == row.id)
                    )
                }
                return IngestRecord(
                    row.id, row.status, row.chunk_rows, row.engine, done_chunks=done, fresh=False
                )
            conn.execute(delete(chunk_t).where(chunk_t.c.ingest_id == row.id))
            conn.execute(
                update(ingest_t)
                .where(ingest_t.c.id == row.id)
                .values(
                    status="running",
                    engine=engine_name,
                    chunk_rows=chunk_rows,
                    rows=0,
                    rejected=0,
                    started_at=utc_now(),
                    finished_at=None,
                    **values,
                )
            )
            return IngestRecord(row.id, "running", chunk_rows, engine_name)

    def chunk_done(self, ingest_id: int, chunk: int, rows: int, rejected: int) -> None:
        """Record that a chunk's output is staged."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(chunk_t).values(
                    ingest_id=ingest_id,
                    chunk=chunk,
                    rows=rows,
                    rejected=rejected,
                    done_at=utc_now(),
                )
            )

    def set_status(self, ingest_id: int, status: str, **values: Any) -> None:
        """Move an ingest to ``status`` (with counts or a finish time in ``values``)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(ingest_t).where(ingest_t.c.id == ingest_id).values(status=status, **values)
            )

    def clear_chunks(self, ingest_id: int) -> None:
        """Forget staged chunks (their files are gone)."""
        with self.engine.begin() as conn:
            conn.execute(delete(chunk_t).where(chunk_t.c.ingest_id == ingest_id))

    def list(self, dataset: str | None = None) -> list[dict[str, Any]]:
        """Every ingest (of one dataset), oldest first."""
        query = select(ingest_t).order_by(ingest_t.c.id)
        if dataset is not None:
            query = query.where(ingest_t.c.dataset == dataset)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
