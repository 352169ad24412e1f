"""Foundation: datasets, statements, name tokens, users, sessions, audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("publisher", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("licence", sa.Text),
        sa.Column("retrieved", sa.String(32)),
        sa.Column("summary", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "statement",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("canonical_id", sa.String(255), nullable=False),
        sa.Column("schema", sa.String(64), nullable=False),
        sa.Column("prop", sa.String(64), nullable=False),
        sa.Column("prop_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("original_value", sa.Text),
        sa.Column("lang", sa.String(16)),
        sa.Column(
            "dataset",
            sa.String(128),
            sa.ForeignKey("dataset.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("origin", sa.Text),
        sa.Column("external", sa.Boolean, nullable=False),
        sa.Column("first_seen", sa.String(32), nullable=False),
        sa.Column("last_seen", sa.String(32), nullable=False),
    )
    op.create_index("ix_statement_entity", "statement", ["entity_id"])
    op.create_index("ix_statement_canonical", "statement", ["canonical_id"])
    op.create_index("ix_statement_dataset", "statement", ["dataset"])
    op.create_index("ix_statement_type_value", "statement", ["prop_type", "value"])
    op.create_table(
        "name_token",
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("token", sa.String(128), nullable=False),
        sa.Column(
            "dataset",
            sa.String(128),
            sa.ForeignKey("dataset.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.UniqueConstraint("entity_id", "token", "dataset", name="uq_name_token"),
    )
    op.create_index("ix_name_token_token", "name_token", ["token"])
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "app_session",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("app_user.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_log", "app_session", "app_user", "name_token", "statement", "dataset"):
        op.drop_table(table)
