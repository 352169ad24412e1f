"""The entity store: FollowTheMoney entities kept as statements in the app database.

Every value is a statement with its dataset, origin and first/last seen, so an entity
page can show where each value came from. Writes go through a :class:`StoreWriter`,
one database transaction: an import either lands whole or not at all.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from followthemoney import Dataset, Statement, StatementEntity
from followthemoney.proxy import EntityProxy
from sqlalchemy import Connection, Engine, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from tidetrace.model import model
from tidetrace.store.datasets import DatasetInfo, upsert_dataset
from tidetrace.store.search import identifier_tokens, name_tokens
from tidetrace.store.tables import name_token_table, statement_table

__all__ = ["EntityStore", "SearchHit", "StoreWriter", "utc_now"]

BATCH = 5000
# The store-wide dataset that statement entities are assembled under when read back.
VIEW_DATASET = Dataset({"name": "tidetrace", "title": "tidetrace store"})


def utc_now() -> str:
    """Now, as the ISO timestamp statements carry."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "")


def _statement_row(stmt: Statement) -> dict[str, Any]:
    return {
        "id": stmt.id,
        "entity_id": stmt.entity_id,
        "canonical_id": stmt.canonical_id or stmt.entity_id,
        "schema": stmt.schema,
        "prop": stmt.prop,
        "prop_type": stmt.prop_type,
        "value": stmt.value,
        "original_value": stmt.original_value,
        "lang": stmt.lang,
        "dataset": stmt.dataset,
        "origin": stmt.origin,
        "external": bool(stmt.external),
        "first_seen": stmt.first_seen,
        "last_seen": stmt.last_seen or stmt.first_seen,
    }


def _row_statement(row: Any) -> Statement:
    return Statement(
        id=row.id,
        entity_id=row.entity_id,
        canonical_id=row.canonical_id,
        schema=row.schema,
        prop=row.prop,
        value=row.value,
        original_value=row.original_value,
        lang=row.lang,
        dataset=row.dataset,
        origin=row.origin,
        external=row.external,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


class StoreWriter:
    """Buffers statements and writes them in batches inside one transaction."""

    def __init__(self, conn: Connection, seen: str) -> None:
        self.conn = conn
        self.seen = seen
        self.statements = 0
        self.entities = 0
        self._rows: dict[str, dict[str, Any]] = {}
        self._tokens: set[tuple[str, str, str]] = set()
        self._datasets: set[str] = set()

    def add_dataset(self, info: DatasetInfo) -> None:
        """Create or describe a dataset before adding statements to it."""
        upsert_dataset(self.conn, info)
        self._datasets.add(info.name)

    def add_entity(
        self,
        proxy: EntityProxy,
        dataset: str,
        origin: str | None = None,
        first_seen: str | None = None,
        last_seen: str | None = None,
    ) -> None:
        """Add every value of ``proxy`` as statements of ``dataset``."""
        if proxy.id is None:
            raise ValueError("entity has no id")
        first = first_seen or self.seen
        if isinstance(proxy, StatementEntity):
            # A statement entity carries per-value language and original values: keep them.
            for stmt in proxy.statements:
                stmt = stmt.clone(
                    dataset=dataset,
                    first_seen=first,
                    last_seen=last_seen or first,
                    origin=origin or stmt.origin,
                )
                stmt.id = stmt.generate_key()
                self.add_statement(stmt)
        else:
            for stmt in Statement.from_entity(
                proxy,
                dataset=dataset,
                first_seen=first,
                last_seen=last_seen or first,
                origin=origin,
            ):
                self.add_statement(stmt)
        self.entities += 1

    def add_statement(self, stmt: Statement) -> None:
        """Add one statement (first/last seen default to this write's time)."""
        if stmt.dataset not in self._datasets:
            upsert_dataset(self.conn, DatasetInfo(name=stmt.dataset, title=stmt.dataset))
            self._datasets.add(stmt.dataset)
        if stmt.first_seen is None:
            stmt.first_seen = self.seen
        if stmt.id is None:
            stmt.id = stmt.generate_key()
        row = _statement_row(stmt)
        prev = self._rows.get(row["id"])
        if prev is not None:
            row["first_seen"] = min(prev["first_seen"], row["first_seen"])
            row["last_seen"] = max(prev["last_seen"], row["last_seen"])
        self._rows[row["id"]] = row
        self.statements += 1
        if stmt.prop_type == "name":
            for token in name_tokens(stmt.value):
                self._tokens.add((stmt.entity_id, token, stmt.dataset))
        elif stmt.prop_type == "identifier":
            for token in identifier_tokens(stmt.value):
                self._tokens.add((stmt.entity_id, token, stmt.dataset))
        if len(self._rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write buffered statements; a statement seen before keeps its first_seen."""
        if self._rows:
            insert = _dialect_insert(self.conn)
            stmt = insert(statement_table)
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "last_seen": func.max(stmt.excluded.last_seen, statement_table.c.last_seen)
                    if self.conn.dialect.name == "sqlite"
                    else func.greatest(stmt.excluded.last_seen, statement_table.c.last_seen),
                    "first_seen": func.min(stmt.excluded.first_seen, statement_table.c.first_seen)
                    if self.conn.dialect.name == "sqlite"
                    else func.least(stmt.excluded.first_seen, statement_table.c.first_seen),
                    "original_value": stmt.excluded.original_value,
                    "origin": stmt.excluded.origin,
                },
            )
            self.conn.execute(stmt, list(self._rows.values()))
            self._rows.clear()
        if self._tokens:
            insert = _dialect_insert(self.conn)
            tok = insert(name_token_table).on_conflict_do_nothing()
            self.conn.execute(
                tok, [{"entity_id": e, "token": t, "dataset": d} for e, t, d in self._tokens]
            )
            self._tokens.clear()


def _dialect_insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


@dataclass
class SearchHit:
    """One search result."""

    id: str
    schema: str
    caption: str
    datasets: list[str]
    score: float
    matched: list[str] = field(default_factory=list)


class EntityStore:
    """Read and write FtM entities as statements in the app database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def writer(self) -> Iterator[StoreWriter]:
        """A writer whose statements land in one transaction, or not at all."""
        with self.engine.begin() as conn:
            writer = StoreWriter(conn, utc_now())
            yield writer
            writer.flush()

    def _rows_for(self, conn: Connection, entity_id: str) -> list[Any]:
        canonical = conn.execute(
            select(statement_table.c.canonical_id).where(
                or_(
                    statement_table.c.canonical_id == entity_id,
                    statement_table.c.entity_id == entity_id,
                )
            )
        ).first()
        if canonical is None:
            return []
        query = (
            select(statement_table)
            .where(statement_table.c.canonical_id == canonical[0])
            .order_by(statement_table.c.prop, statement_table.c.dataset, statement_table.c.value)
        )
        return list(conn.execute(query).all())

    def statements(self, entity_id: str) -> list[Statement]:
        """Every statement of an entity (by canonical or source id), in display order."""
        with self.engine.connect() as conn:
            return [_row_statement(r) for r in self._rows_for(conn, entity_id)]

    def get_entity(self, entity_id: str) -> StatementEntity | None:
        """The entity with all its statements, or None."""
        stmts = self.statements(entity_id)
        if not stmts:
            return None
        return StatementEntity.from_statements(VIEW_DATASET, stmts)

    def iter_statements(self, dataset: str | None = None) -> Iterator[Statement]:
        """Every statement, grouped by canonical entity (streamed)."""
        query = select(statement_table).order_by(
            statement_table.c.canonical_id, statement_table.c.prop, statement_table.c.id
        )
        if dataset is not None:
            query = query.where(statement_table.c.dataset == dataset)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(query)
            for row in result:
                yield _row_statement(row)

    def iter_entities(self, dataset: str | None = None) -> Iterator[StatementEntity]:
        """Every entity, assembled from its statements (streamed)."""
        current: list[Statement] = []
        for stmt in self.iter_statements(dataset):
            if current and current[0].canonical_id != stmt.canonical_id:
                yield StatementEntity.from_statements(VIEW_DATASET, current)
                current = []
            current.append(stmt)
        if current:
            yield StatementEntity.from_statements(VIEW_DATASET, current)

    def count_by_schema(self, dataset: str | None = None) -> dict[str, int]:
        """Entities per schema (counting source entities, not merged ones)."""
        query = (
            select(statement_table.c.schema, func.count())
            .where(statement_table.c.prop == Statement.BASE)
            .group_by(statement_table.c.schema)
        )
        if dataset is not None:
            query = query.where(statement_table.c.dataset == dataset)
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())

    def captions(self, entity_ids: Iterable[str]) -> dict[str, str]:
        """A display name for each id (its first name value); ids without one are left out."""
        ids = sorted(set(entity_ids))
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                rows = conn.execute(
                    select(statement_table.c.entity_id, statement_table.c.value)
                    .where(
                        and_(
                            statement_table.c.entity_id.in_(ids[start : start + 500]),
                            statement_table.c.prop == "name",
                        )
                    )
                    .order_by(statement_table.c.entity_id, statement_table.c.value)
                ).all()
                for entity_id, value in rows:
                    out.setdefault(entity_id, value)
        return out

    def referencing(self, entity_id: str, limit: int = 200) -> list[StatementEntity]:
        """Entities whose entity-typed properties point at ``entity_id`` (sanctions, links)."""
        with self.engine.connect() as conn:
            ids = [r.entity_id for r in self._rows_for(conn, entity_id)]
            if not ids:
                return []
            refs = conn.execute(
                select(statement_table.c.canonical_id)
                .where(
                    and_(
                        statement_table.c.prop_type == "entity",
                        statement_table.c.value.in_(set(ids)),
                    )
                )
                .distinct()
                .limit(limit)
            ).all()
        out = []
        for (ref,) in refs:
            entity = self.get_entity(ref)
            if entity is not None:
                out.append(entity)
        return out

    def search(
        self,
        query: str,
        schema: str | None = None,
        dataset: str | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Entities whose names contain the query's tokens, best first.

        An exact identifier (IMO number, approval code, reference number) also matches.
        Every token must match, the last one as a prefix so that typing finds names.
        """
        tokens = sorted(name_tokens(query))
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, list[str]] = defaultdict(list)
        with self.engine.connect() as conn:
            sets: list[set[str]] = []
            for token in tokens:
                cond = name_token_table.c.token == token
                if len(token) >= 3 and token.isascii():
                    cond = or_(cond, name_token_table.c.token.like(_like_prefix(token), "\\"))
                q = select(name_token_table.c.entity_id).where(cond)
                if dataset is not None:
                    q = q.where(name_token_table.c.dataset == dataset)
                found = {r[0] for r in conn.execute(q.distinct().limit(50_000)).all()}
                sets.append(found)
            candidates = set.intersection(*sets) if sets else set()
            for eid in candidates:
                scores[eid] += len(tokens)
                matched[eid].append("name")
            ident = identifier_tokens(query)
            if ident:
                q = select(name_token_table.c.entity_id).where(name_token_table.c.token.in_(ident))
                if dataset is not None:
                    q = q.where(name_token_table.c.dataset == dataset)
                for (eid,) in conn.execute(q.distinct().limit(100)).all():
                    scores[eid] += 100
                    matched[eid].append("identifier")
            if not scores:
                return []
            hits = self._hits(conn, scores, matched, schema)
        hits.sort(key=lambda h: (-h.score, h.caption))
        return hits[:limit]

    def _hits(
        self,
        conn: Connection,
        scores: dict[str, float],
        matched: dict[str, list[str]],
        schema: str | None,
    ) -> list[SearchHit]:
        by_canonical: dict[str, SearchHit] = {}
        ids = list(scores)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                select(
                    statement_table.c.entity_id,
                    statement_table.c.canonical_id,
                    statement_table.c.schema,
                    statement_table.c.prop,
                    statement_table.c.value,
                    statement_table.c.dataset,
                ).where(
                    and_(
                        statement_table.c.entity_id.in_(chunk),
                        statement_table.c.prop.in_([Statement.BASE, "name"]),
                    )
                )
            ).all()
            for row in rows:
                if schema is not None and not _is_a(row.schema, schema):
                    continue
                hit = by_canonical.get(row.canonical_id)
                if hit is None:
                    hit = SearchHit(row.canonical_id, row.schema, row.canonical_id, [], 0.0)
                    by_canonical[row.canonical_id] = hit
                hit.score = max(hit.score, scores[row.entity_id])
                hit.matched = sorted(set(hit.matched) | set(matched[row.entity_id]))
                if row.dataset not in hit.datasets:
                    hit.datasets.append(row.dataset)
                if row.prop == "name" and hit.caption == hit.id:
                    hit.caption = row.value
        # Shorter names rank first among equal scores: "Dandong Taifeng" before its subsidiaries.
        for hit in by_canonical.values():
            hit.score = round(hit.score - min(len(hit.caption), 200) / 1000, 3)
        return list(by_canonical.values())

    def add_entities(
        self, entities: Iterable[EntityProxy], dataset: DatasetInfo, origin: str | None = None
    ) -> int:
        """Add entities to a dataset in one transaction; returns how many."""
        with self.writer() as writer:
            writer.add_dataset(dataset)
            for entity in entities:
                writer.add_entity(entity, dataset.name, origin=origin)
            return writer.entities


def _like_prefix(token: str) -> str:
    escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%"


def _is_a(schema_name: str, parent: str) -> bool:
    schema = model.get(schema_name)
    return schema is not None and schema.is_a(parent)
