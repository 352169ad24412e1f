"""Entity resolution: judgements with history, the review queue, runs.

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("resolve",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolve_judgement",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("left_id", sa.String(255), nullable=False),
        sa.Column("right_id", sa.String(255), nullable=False),
        sa.Column("judgement", sa.String(16), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("deleted_at", sa.String(32)),
        sa.Column("deleted_by", sa.String(64)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_resolve_judgement_left", "resolve_judgement", ["left_id"])
    op.create_index("ix_resolve_judgement_right", "resolve_judgement", ["right_id"])
    op.create_index(
        "uq_resolve_judgement_live",
        "resolve_judgement",
        ["left_id", "right_id"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "resolve_candidate",
        sa.Column("left_id", sa.String(255), primary_key=True),
        sa.Column("right_id", sa.String(255), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_resolve_candidate_score", "resolve_candidate", ["score"])
    op.create_table(
        "resolve_run",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("records", sa.Integer, nullable=False),
        sa.Column("pairs", sa.Integer, nullable=False),
        sa.Column("linked", sa.Integer, nullable=False),
        sa.Column("unlinked", sa.Integer, nullable=False),
        sa.Column("queued", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("resolve_run", "resolve_candidate", "resolve_judgement"):
        op.drop_table(table)
