"""The resolution domain's tables, on the shared ``metadata`` (migration ``0005_resolve``).

* ``resolve_judgement``: every decision that two records are, or are not, one entity —
  human (positive, negative, unsure) or automatic (positive above the match band, actor
  ``tidetrace:auto``). Rows are never deleted: a superseded or retracted decision gets
  ``deleted_at``/``deleted_by``, so the history of every merge and split stays readable.
* ``resolve_candidate``: the review queue, pairs in the review band with their score and
  explanation, rewritten by each run; never a source of truth.
* ``resolve_run``: what each run read, found and changed.
"""

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text, text

from tidetrace.store.tables import metadata

__all__ = ["resolve_candidate_table", "resolve_judgement_table", "resolve_run_table"]

resolve_judgement_table = Table(
    "resolve_judgement",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The pair, ordered (left_id < right_id), so a pair has one row however it was asked.
    Column("left_id", String(255), nullable=False),
    Column("right_id", String(255), nullable=False),
    Column("judgement", String(16), nullable=False),
    Column("score", Float),
    Column("actor", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("deleted_at", String(32)),
    Column("deleted_by", String(64)),
    Column("note", Text),
    Index("ix_resolve_judgement_left", "left_id"),
    Index("ix_resolve_judgement_right", "right_id"),
    # At most one live decision per pair.
    Index(
        "uq_resolve_judgement_live",
        "left_id",
        "right_id",
        unique=True,
        sqlite_where=text("deleted_at IS NULL"),
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

resolve_candidate_table = Table(
    "resolve_candidate",
    metadata,
    Column("left_id", String(255), primary_key=True),
    Column("right_id", String(255), primary_key=True),
    Column("score", Float, nullable=False),
    # JSON: MatchResult.to_dict() — features, values, weights, what fired.
    Column("explanation", Text, nullable=False),
    Column("run_id", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_resolve_candidate_score", "score"),
)

resolve_run_table = Table(
    "resolve_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("engine", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("config", Text, nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("records", Integer, nullable=False, default=0),
    Column("pairs", Integer, nullable=False, default=0),
    Column("linked", Integer, nullable=False, default=0),
    Column("unlinked", Integer, nullable=False, default=0),
    Column("queued", Integer, nullable=False, default=0),
)
