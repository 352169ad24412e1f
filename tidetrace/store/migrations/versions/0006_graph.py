"""Graph and screening: flags on entities, API keys for the /match endpoint.

Revision ID: 0006
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = ("graph",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "graph_flag",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("since", sa.String(10)),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
        sa.Column("revoked_by", sa.String(64)),
        sa.Column("revoke_reason", sa.Text),
        sa.UniqueConstraint("kind", "source", "entity_id", name="uq_graph_flag_source"),
    )
    op.create_index("ix_graph_flag_entity", "graph_flag", ["entity_id"])
    op.create_table(
        "screen_api_key",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.Text),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_index("ix_screen_api_key_user", "screen_api_key", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_screen_api_key_user", "screen_api_key")
    op.drop_table("screen_api_key")
    op.drop_index("ix_graph_flag_entity", "graph_flag")
    op.drop_table("graph_flag")
