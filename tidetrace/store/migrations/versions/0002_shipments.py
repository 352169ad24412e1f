"""Shipments: the ingest manifest (one row per ingested source, one per staged chunk).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("shipments",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipment_ingest",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("layout", sa.String(64), nullable=False),
        sa.Column("encoding", sa.Text, nullable=False),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("chunk_rows", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.UniqueConstraint("dataset", "sha256", name="uq_shipment_ingest_source"),
    )
    op.create_table(
        "shipment_ingest_chunk",
        sa.Column(
            "ingest_id",
            sa.Integer,
            sa.ForeignKey("shipment_ingest.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("done_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("shipment_ingest_chunk")
    op.drop_table("shipment_ingest")
