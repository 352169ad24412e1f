"""The application database's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Schema changes go through an Alembic migration in ``store/migrations/versions``; this
module always describes the head revision.
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

dataset_table = Table(
    "dataset",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("title", Text, nullable=False),
    Column("publisher", Text),
    Column("url", Text),
    Column("licence", Text),
    Column("retrieved", String(32)),
    Column("summary", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per FtM statement: a value of one property of one entity, with its provenance.
statement_table = Table(
    "statement",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("entity_id", String(255), nullable=False),
    Column("canonical_id", String(255), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("prop", String(64), nullable=False),
    Column("prop_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("original_value", Text),
    Column("lang", String(16)),
    Column("dataset", String(128), ForeignKey("dataset.name", ondelete="CASCADE"), nullable=False),
    Column("origin", Text),
    Column("external", Boolean, nullable=False, default=False),
    Column("first_seen", String(32), nullable=False),
    Column("last_seen", String(32), nullable=False),
    Index("ix_statement_entity", "entity_id"),
    Index("ix_statement_canonical", "canonical_id"),
    Index("ix_statement_dataset", "dataset"),
    Index("ix_statement_type_value", "prop_type", "value"),
)

# Normalised name tokens for search; rebuilt from statements, never a source of truth.
name_token_table = Table(
    "name_token",
    metadata,
    Column("entity_id", String(255), nullable=False),
    Column("token", String(128), nullable=False),
    Column("dataset", String(128), ForeignKey("dataset.name", ondelete="CASCADE"), nullable=False),
    UniqueConstraint("entity_id", "token", "dataset", name="uq_name_token"),
    Index("ix_name_token_token", "token"),
)

user_table = Table(
    "app_user",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

session_table = Table(
    "app_session",
    metadata,
    # Only a hash of the cookie value is stored: a database dump gives no live session.
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("app_user.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Hash-chained log of every change made through tidetrace (imports, users, judgements).
audit_table = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)
