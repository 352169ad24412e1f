"""A resolution run over a workspace: read records, find and score pairs, apply.

Records come from two places: the entity store (list entries, the case, registry
facilities: every resolvable entity, by its own id) and, when the trade-records domain is
installed and has data, the named parties of the bills of lading
(:func:`iter_party_records`, reading ``tidetrace.shipments``' Parquet dataset).

A party that ends up linked to something, or queued for review, is written to the store
(dataset ``shipment_parties``) so that it has statements — a name with its provenance — and
its canonical id reaches the graph build and the entity pages like any other entity's.
"""

import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from followthemoney import Statement, StatementEntity
from sqlalchemy import insert, select, update

from tidetrace.model import model
from tidetrace.resolve.engine import get_engine, sort_results
from tidetrace.resolve.judgements import Resolver
from tidetrace.resolve.records import Record, from_entity, from_party, is_resolvable
from tidetrace.resolve.scoring import MatchResult, Scorer, load_config
from tidetrace.resolve.similar import read_candidate_links, score_candidate_links
from tidetrace.resolve.tables import resolve_run_table
from tidetrace.store import audit
from tidetrace.store.datasets import TRADE_PARTIES_DATASET, DatasetInfo
from tidetrace.store.entities import VIEW_DATASET, EntityStore, utc_now
from tidetrace.store.tables import statement_table
from tidetrace.workspace import Workspace

__all__ = [
    "PARTY_DATASET",
    "PARTY_SCHEMA",
    "RunSummary",
    "iter_party_records",
    "iter_store_records",
    "load_records",
    "record_for",
    "resolve_workspace",
]

PARTY_DATASET = DatasetInfo(
    name=TRADE_PARTIES_DATASET,
    title="Bill-of-lading parties (linked by entity resolution)",
    publisher="tidetrace (from the ingested trade records)",
    summary=(
        "Shippers, consignees and notify parties of ingested bills of lading that entity "
        "resolution linked to another record or queued for review; names as filed."
    ),
)
# A party is whatever filed the bill: the plant itself (a ``Facility`` in the case or a
# registry), its operating company, a trader. A legal form in the name ("CO LTD") does not
# tell which, and FtM cannot merge a ``Company`` with a ``Facility``, so a guessed
# ``Company`` would forbid the commonest link of all (DALIAN HAIQING FOODS CO.,LTD on a bill
# = the plant Dalian Haiqing Food). ``LegalEntity`` merges with every one of them and still
# never with a ``Vessel``.
PARTY_SCHEMA = "LegalEntity"
# One row per named party id, whichever slot (shipper, consignee, notify) it was in.
_PARTY_SQL = """
SELECT id, min(name), min(address), min(country), min(dataset) FROM (
  SELECT shipper_id AS id, shipper_name AS name, shipper_address AS address,
         shipper_country AS country, dataset FROM all_versions
  WHERE shipper_id IS NOT NULL AND shipper_name IS NOT NULL AND shipper_status = 'named'
  UNION ALL
  SELECT consignee_id, consignee_name, consignee_address, consignee_country, dataset
  FROM all_versions
  WHERE consignee_id IS NOT NULL AND consignee_name IS NOT NULL AND consignee_status = 'named'
  UNION ALL
  SELECT notify_id, notify_name, notify_address, notify_country, dataset FROM all_versions
  WHERE notify_id IS NOT NULL AND notify_name IS NOT NULL AND notify_status = 'named'
) GROUP BY id ORDER BY id
"""


@dataclass
class RunSummary:
    """What a run did.

    Attributes:
        run_id: the run's number.
        engine: duckdb or spark.
        records: records read.
        pairs: candidate pairs scored.
        linked: automatic links added.
        unlinked: automatic links withdrawn (no longer above the match band).
        queued: pairs in the review queue.
        parties_written: bill-of-lading parties written to the store.
        seconds: wall time.
    """

    run_id: int
    engine: str
    records: int
    pairs: int
    linked: int
    unlinked: int
    queued: int
    parties_written: int
    seconds: float

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"run {self.run_id} ({self.engine}): {self.records} records, {self.pairs} pairs "
            f"scored; {self.linked} linked, {self.unlinked} unlinked, {self.queued} to review "
            f"({self.seconds:.1f} s)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _resolvable_schemata() -> list[str]:
    return sorted(name for name in model.schemata if is_resolvable(name))


def iter_store_records(ws: Workspace) -> Iterator[Record]:
    """Every resolvable, named entity of the store, by its own id (not merged)."""
    query = (
        select(statement_table)
        .where(statement_table.c.schema.in_(_resolvable_schemata()))
        .order_by(statement_table.c.entity_id, statement_table.c.prop, statement_table.c.id)
    )
    with ws.engine.connect() as conn:
        current: list[Statement] = []
        for row in conn.execution_options(stream_results=True, yield_per=5000).execute(query):
            stmt = Statement(
                entity_id=row.entity_id,
                canonical_id=row.entity_id,
                schema=row.schema,
                prop=row.prop,
                value=row.value,
                dataset=row.dataset,
                origin=row.origin,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
            )
            if current and current[0].entity_id != stmt.entity_id:
                yield from _record_of(current)
                current = []
            current.append(stmt)
        if current:
            yield from _record_of(current)


def record_for(ws: Workspace, entity_id: str) -> Record | None:
    """The record of one store entity by its own id (its statements only, not its cluster)."""
    query = (
        select(statement_table)
        .where(statement_table.c.entity_id == entity_id)
        .order_by(statement_table.c.prop, statement_table.c.id)
    )
    with ws.engine.connect() as conn:
        statements = [
            Statement(
                entity_id=row.entity_id,
                canonical_id=row.entity_id,
                schema=row.schema,
                prop=row.prop,
                value=row.value,
                dataset=row.dataset,
                origin=row.origin,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
            )
            for row in conn.execute(query)
        ]
    if not statements:
        return None
    return next(_record_of(statements), None)


def _record_of(statements: list[Statement]) -> Iterator[Record]:
    entity = StatementEntity.from_statements(VIEW_DATASET, statements)
    datasets = sorted({s.dataset for s in statements})
    record = from_entity(entity, source=", ".join(datasets))
    if record is not None:
        yield record


def iter_party_records(ws: Workspace) -> Iterator[Record]:
    """Named parties of the ingested bills of lading, one record per party id.

    The seam to the trade-records domain: reads ``tidetrace.shipments``' Parquet dataset
    (columns ``<role>_id``, ``_name``, ``_address``, ``_country``, ``_status``). Nothing
    is read when that domain is not installed or has no data.
    """
    try:
        from tidetrace.shipments.store import ShipmentStore
    except ImportError:  # the trade-records domain is optional
        return
    store = ShipmentStore(ws)
    if not store.datasets():
        return
    con = store.connect()
    try:
        cursor = con.execute(_PARTY_SQL)
        while True:
            rows = cursor.fetchmany(50_000)
            if not rows:
                break
            for pid, name, address, country, dataset in rows:
                yield from_party(
                    str(pid),
                    str(name),
                    address=address,
                    country=country,
                    source=f"shipments:{dataset}",
                    schema=PARTY_SCHEMA,
                )
    finally:
        con.close()


def load_records(ws: Workspace, parties: bool = True) -> list[Record]:
    """Store records and (optionally) bill-of-lading parties, one per id, sorted by id.

    A party already written to the store by an earlier run is read from the store.
    """
    records: dict[str, Record] = {r.id: r for r in iter_store_records(ws)}
    if parties:
        for party in iter_party_records(ws):
            records.setdefault(party.id, party)
    return [records[k] for k in sorted(records)]


def _write_parties(ws: Workspace, parties: Sequence[Record]) -> int:
    if not parties:
        return 0

    def entities() -> Iterator[Any]:
        for record in parties:
            entity = model.make_entity(record.schema)
            entity.id = record.id
            entity.add("name", record.names[0])
            entity.add("country", list(record.countries), quiet=True)
            entity.add("address", list(record.addresses), quiet=True)
            yield entity

    store = EntityStore(ws.engine)
    with store.writer() as writer:
        writer.add_dataset(PARTY_DATASET)
        for entity in entities():
            writer.add_entity(entity, PARTY_DATASET.name, origin="resolve")
    return len(parties)


def resolve_workspace(
    ws: Workspace,
    engine: str = "duckdb",
    actor: str = "cli",
    config: Path | None = None,
    parties: bool = True,
    max_block: int | None = None,
    session: Any | None = None,
) -> RunSummary:
    """Resolve everything in a workspace: one run.

    Args:
        ws: the workspace.
        engine: ``duckdb`` or ``spark``.
        actor: who started the run (for the audit log).
        config: a scoring configuration file (the shipped one when None).
        parties: also resolve the parties of ingested bills of lading.
        max_block: blocking keys shared by more records than this are ignored.
        session: a SparkSession for the Spark engine (a local one when None).

    Returns:
        What the run did. Running it again on unchanged data changes nothing.
    """
    started = time.perf_counter()
    scorer = Scorer(load_config(config))
    _reset_party_schema(ws)
    records = load_records(ws, parties=parties)
    runner = get_engine(engine)
    if session is not None and hasattr(runner, "session"):
        runner.session = session
    kwargs: dict[str, Any] = {} if max_block is None else {"max_block": max_block}
    # People's merges decide, with this run's matches, which conflicts can matter.
    kwargs["linked"] = Resolver(ws.engine).human_links()
    found = runner.run(records, scorer, **kwargs)
    leads = read_candidate_links(ws)
    if leads:
        by_id = {r.id: r for r in records}
        found.results = sort_results(score_candidate_links(found.results, leads, by_id, scorer))
    review = scorer.config.review
    store_ids = _store_ids(ws, {i for r in found.results for i in (r.left, r.right)})
    involved = {i for r in found.results if r.score >= review for i in (r.left, r.right)}
    new_parties = [r for r in records if r.id in involved and r.id not in store_ids]
    written = _write_parties(ws, new_parties)
    with ws.engine.begin() as conn:
        run_id = conn.execute(
            insert(resolve_run_table).values(
                engine=found.engine,
                actor=actor,
                config=scorer.config.source,
                started_at=utc_now(),
                records=found.records,
                pairs=found.pairs,
                linked=0,
                unlinked=0,
                queued=0,
            )
        ).inserted_primary_key
        assert run_id is not None
        rid = int(run_id[0])
        results: list[MatchResult] = found.results
        linked, unlinked, queued = Resolver(ws.engine).apply_run(
            conn, results, rid, scorer.config.match
        )
        conn.execute(
            update(resolve_run_table)
            .where(resolve_run_table.c.id == rid)
            .values(finished_at=utc_now(), linked=linked, unlinked=unlinked, queued=queued)
        )
        audit.append(
            conn,
            actor,
            "resolve.run",
            target=f"run {rid}",
            detail={
                "engine": found.engine,
                "records": found.records,
                "pairs": found.pairs,
                "linked": linked,
                "unlinked": unlinked,
                "queued": queued,
                "parties_written": written,
            },
        )
    return RunSummary(
        rid, found.engine, found.records, found.pairs, linked, unlinked, queued, written,
        round(time.perf_counter() - started, 3),
    )  # fmt: skip


def _reset_party_schema(ws: Workspace) -> None:
    """Parties written by runs that still guessed ``Company`` from a legal form become
    :data:`PARTY_SCHEMA`, so they can join a plant (see there)."""
    st = statement_table
    with ws.engine.begin() as conn:
        conn.execute(
            update(st)
            .where(st.c.dataset == PARTY_DATASET.name, st.c.schema != PARTY_SCHEMA)
            .values(schema=PARTY_SCHEMA)
        )


def _store_ids(ws: Workspace, ids: set[str]) -> set[str]:
    found: set[str] = set()
    items = sorted(ids)
    with ws.engine.connect() as conn:
        for start in range(0, len(items), 500):
            chunk = items[start : start + 500]
            rows = conn.execute(
                select(statement_table.c.entity_id)
                .where(statement_table.c.entity_id.in_(chunk))
                .distinct()
            ).all()
            found.update(r[0] for r in rows)
    return found
