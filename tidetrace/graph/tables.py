"""The graph domain's tables: flags on entities (SQLAlchemy Core, same ``metadata``).

The supply-chain graph itself is derived data, rebuilt from trade records and the entity
store into files under the workspace (see :mod:`tidetrace.graph.build`). Flags are not
derived: an investigator's finding is a judgement with evidence, so it lives in the app
database beside the audit log that records who made it. List hits are written here too,
refreshed by each build, so that every flag is read from one place.

Schema changes go through ``store/migrations/versions/0006_graph.py`` (branch ``graph``).
"""

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from tidetrace.store.tables import metadata

__all__ = ["FLAG_KINDS", "flag_table"]

# finding: an investigator's judgement; list: a UN 1718 / OFAC DPRK listing; uflpa and wro:
# the US forced-labour lists when given; computed: reserved for the risk work.
FLAG_KINDS = ("finding", "list", "uflpa", "wro", "computed")

flag_table = Table(
    "graph_flag",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The entity as flagged (a source or canonical id); read back through its canonical id.
    Column("entity_id", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    # JSON list of evidence references (URLs, vault item ids, file names), as given.
    Column("evidence", Text),
    # ISO date from which the flag applies; trade before it is reported separately.
    Column("since", String(10)),
    # What raised it: a sanction entity id, "uflpa:<row>", or "finding:<random>".
    Column("source", String(255), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    Column("revoked_by", String(64)),
    Column("revoke_reason", Text),
    UniqueConstraint("kind", "source", "entity_id", name="uq_graph_flag_source"),
    Index("ix_graph_flag_entity", "entity_id"),
)
