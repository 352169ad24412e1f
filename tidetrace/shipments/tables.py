"""The app-database tables of the shipments domain: the ingest manifest.

Bills of lading themselves live in Parquet (``store.py``); the database records which
source was ingested into which dataset, how far a run got (chunk by chunk), and how it
ended, so a killed run resumes where it stopped and a repeated one adds nothing. The
tables hang on the shared ``metadata`` and are created by migration ``0002_shipments``.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from tidetrace.store.tables import metadata

__all__ = ["shipment_chunk_table", "shipment_ingest_table"]

# One row per (dataset, source content): its id is the ingest number rows carry, which
# orders versions of an amended bill.
shipment_ingest_table = Table(
    "shipment_ingest",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset", String(128), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source_file", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("layout", String(64), nullable=False),
    Column("encoding", Text, nullable=False),
    Column("engine", String(16), nullable=False),
    Column("chunk_rows", Integer, nullable=False),
    # running → publishing → done; failed when the reject rate was over the limit.
    Column("status", String(16), nullable=False),
    Column("rows", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
    Column("actor", String(64), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    UniqueConstraint("dataset", "sha256", name="uq_shipment_ingest_source"),
)

# The chunks of a running ingest whose output is staged: a resumed run skips them.
shipment_chunk_table = Table(
    "shipment_ingest_chunk",
    metadata,
    Column(
        "ingest_id",
        Integer,
        ForeignKey("shipment_ingest.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("chunk", Integer, primary_key=True, autoincrement=False),
    Column("rows", BigInteger, nullable=False),
    Column("rejected", BigInteger, nullable=False),
    Column("done_at", String(32), nullable=False),
)
