"""Judgements: which records are one entity, who said so, and when; merges and splits.

A judgement is about a pair: *positive* (one entity), *negative* (different entities) or
*unsure*. Positive judgements are transitive — clusters are the connected components of
positive edges — and negative ones reach whole clusters: A=B and B=C leave no question
about A=C; A≠B and B=C mean A≠C. A cluster of several records gets one canonical id,
written into every statement of its members (``statement.canonical_id``), which is how
:meth:`tidetrace.store.entities.EntityStore.get_entity` shows them as one entity.

Resolution runs add *automatic* positive edges (actor :data:`AUTO`) for pairs above the
match band. They never override a human: a pair a person judged, or clusters a person
said are different (or was unsure about), are left alone, and a re-run may withdraw only
automatic edges. Nothing is deleted: a superseded or withdrawn judgement keeps its row
with ``deleted_at``, so every merge and split has a history, and each change is also in
the hash-chained audit log.

Why not nomenklatura's ``Resolver``: it fits the model (edges with ``deleted_at``,
connected components) but owns its table outside our Alembic migrations and metadata,
mints random canonical ids, writes no audit entries, splits a whole cluster
(``explode``) rather than one member, and has no notion of a human decision that machine
runs must not touch. The rules here are small enough to keep in one module; see
``docs/decisions/0005-entity-resolution.md``.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from followthemoney.exc import InvalidData
from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.model import model
from tidetrace.resolve.tables import resolve_candidate_table, resolve_judgement_table
from tidetrace.store import audit
from tidetrace.store.entities import utc_now
from tidetrace.store.tables import statement_table

__all__ = [
    "AUTO",
    "CANONICAL_PREFIX",
    "Clusters",
    "Edge",
    "Judgement",
    "ResolveConflict",
    "Resolver",
    "canonical_for",
    "ordered",
]

AUTO = "tidetrace:auto"
CANONICAL_PREFIX = "tt-ent-"
_BATCH = 500


class Judgement(StrEnum):
    """What a judgement says about a pair."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    UNSURE = "unsure"


class ResolveConflict(TidetraceError):
    """A judgement contradicts another one; the message says which and what to do."""

    STATUS = 409


def ordered(left: str, right: str) -> tuple[str, str]:
    """The pair in canonical order (a pair has one row however it was asked)."""
    return (left, right) if left <= right else (right, left)


def canonical_for(members: Iterable[str]) -> str:
    """The canonical id of a cluster: its only member, or derived from the smallest id.

    Derived from membership, not random, so two engines or two runs on the same input
    produce the same ids; it changes only when the smallest member leaves the cluster.
    """
    ids = sorted(set(members))
    if not ids:
        raise ValueError("a cluster has at least one member")
    if len(ids) == 1:
        return ids[0]
    digest = hashlib.sha1(ids[0].encode("utf-8"), usedforsecurity=False).hexdigest()
    return f"{CANONICAL_PREFIX}{digest[:20]}"


@dataclass(frozen=True)
class Edge:
    """One judgement row.

    Attributes:
        id: row id.
        left: the smaller id of the pair.
        right: the larger id.
        judgement: positive, negative or unsure.
        score: the machine score when there was one.
        actor: who decided (a user name, or :data:`AUTO`).
        created_at: when.
        deleted_at: when it was superseded or withdrawn (None while live).
        deleted_by: by whom.
        note: free text (a reviewer's reason, or the run that made it).
    """

    id: int
    left: str
    right: str
    judgement: Judgement
    score: float | None
    actor: str
    created_at: str
    deleted_at: str | None = None
    deleted_by: str | None = None
    note: str | None = None

    @property
    def human(self) -> bool:
        """Whether a person made this judgement."""
        return self.actor != AUTO

    @property
    def pair(self) -> tuple[str, str]:
        """The (ordered) pair."""
        return (self.left, self.right)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "left": self.left,
            "right": self.right,
            "judgement": self.judgement.value,
            "score": self.score,
            "actor": self.actor,
            "created_at": self.created_at,
            "deleted_at": self.deleted_at,
            "deleted_by": self.deleted_by,
            "note": self.note,
        }


def _common(names: Sequence[str]) -> Any:
    """The schema all of ``names`` share; InvalidData when there is none."""
    schema: Any = model.get(names[0])
    for name in names[1:]:
        schema = model.common_schema(schema, name)
    return schema


def _edge(row: Any) -> Edge:
    return Edge(
        id=row.id,
        left=row.left_id,
        right=row.right_id,
        judgement=Judgement(row.judgement),
        score=row.score,
        actor=row.actor,
        created_at=row.created_at,
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
        note=row.note,
    )


class Clusters:
    """Clusters and cross-cluster blocks from a set of live edges (union-find).

    Args:
        edges: live judgements; positive ones join clusters, negative ones block whole
            clusters from joining, unsure ones block only automatic joins.
    """

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        self._parent: dict[str, str] = {}
        self._neg: dict[str, set[str]] = {}
        self._unsure: dict[str, set[str]] = {}
        # Pairs a run found strong evidence against: automatic joins must not make them one
        # entity through other links (海青 = Haiqing = 海清 when 海青 ≠ 海清 directly).
        self._apart: dict[str, set[str]] = {}
        self.pairs: dict[tuple[str, str], Edge] = {}
        deferred: list[Edge] = []
        for edge in edges:
            self.pairs[edge.pair] = edge
            if edge.judgement is Judgement.POSITIVE:
                self._join(edge.left, edge.right)
            else:
                deferred.append(edge)
        for edge in deferred:
            table = self._neg if edge.judgement is Judgement.NEGATIVE else self._unsure
            a, b = self.find(edge.left), self.find(edge.right)
            table.setdefault(a, set()).add(b)
            table.setdefault(b, set()).add(a)

    def find(self, node: str) -> str:
        """The root of ``node``'s cluster."""
        parent = self._parent
        root = node
        while parent.get(root, root) != root:
            root = parent[root]
        while node != root:
            nxt = parent.get(node, node)
            parent[node] = root
            node = nxt
        return root

    def _join(self, left: str, right: str) -> str:
        a, b = self.find(left), self.find(right)
        if a == b:
            return a
        if b < a:
            a, b = b, a
        self._parent[b] = a
        self._parent.setdefault(a, a)
        for table in (self._neg, self._unsure, self._apart):
            moved = table.pop(b, set())
            if moved:
                table.setdefault(a, set()).update(moved)
                for other in moved:
                    table[other].discard(b)
                    table[other].add(a)
        return a

    def blocked(self, left: str, right: str, automatic: bool) -> bool:
        """Whether joining the two clusters contradicts a judgement.

        A negative judgement blocks everyone; an unsure one blocks automatic joins only.
        """
        a, b = self.find(left), self.find(right)
        if b in self._neg.get(a, set()):
            return True
        return automatic and (b in self._unsure.get(a, set()) or b in self._apart.get(a, set()))

    def keep_apart(self, left: str, right: str) -> None:
        """Stop automatic joins of the two clusters (a run found evidence against the pair)."""
        a, b = self.find(left), self.find(right)
        if a != b:
            self._apart.setdefault(a, set()).add(b)
            self._apart.setdefault(b, set()).add(a)

    def join(self, left: str, right: str, automatic: bool) -> bool:
        """Join two clusters unless that is blocked; returns whether they are joined now."""
        if self.find(left) == self.find(right):
            return True
        if self.blocked(left, right, automatic):
            return False
        self._join(left, right)
        return True

    def judgement(self, left: str, right: str) -> Judgement | None:
        """What the judgements say about a pair, directly or through the clusters."""
        if left == right or self.find(left) == self.find(right):
            return Judgement.POSITIVE
        a, b = self.find(left), self.find(right)
        if b in self._neg.get(a, set()):
            return Judgement.NEGATIVE
        edge = self.pairs.get(ordered(left, right))
        if edge is not None and edge.judgement is Judgement.UNSURE:
            return Judgement.UNSURE
        return None

    def members(self, node: str) -> set[str]:
        """Every id in ``node``'s cluster (``{node}`` when it is alone)."""
        root = self.find(node)
        out = {n for n in self._parent if self.find(n) == root}
        out.add(node)
        return out

    def groups(self) -> dict[str, set[str]]:
        """Every cluster of two or more ids, by root."""
        out: dict[str, set[str]] = {}
        for node in list(self._parent):
            out.setdefault(self.find(node), set()).add(node)
        return {root: ids for root, ids in out.items() if len(ids) > 1}

    def canonical(self, node: str) -> str:
        """The canonical id of ``node``'s cluster."""
        if node not in self._parent:
            return node
        return canonical_for(self.members(node))


def _live_edges(conn: Connection) -> list[Edge]:
    rows = conn.execute(
        select(resolve_judgement_table)
        .where(resolve_judgement_table.c.deleted_at.is_(None))
        .order_by(resolve_judgement_table.c.id)
    ).all()
    return [_edge(r) for r in rows]


def sync_canonical(conn: Connection, clusters: Clusters, ids: Iterable[str]) -> int:
    """Write each id's canonical id into its statements; returns how many ids changed."""
    # Each cluster's canonical id once: asking per id walks every clustered id each time,
    # quadratic after a run that links thousands of records.
    canonical = {root: canonical_for(members) for root, members in clusters.groups().items()}
    wanted = {i: canonical.get(clusters.find(i), i) for i in set(ids)}
    changed = 0
    items = sorted(wanted.items())
    for start in range(0, len(items), _BATCH):
        chunk = dict(items[start : start + _BATCH])
        current = conn.execute(
            select(statement_table.c.entity_id, statement_table.c.canonical_id)
            .where(statement_table.c.entity_id.in_(list(chunk)))
            .distinct()
        ).all()
        stale = {r.entity_id for r in current if r.canonical_id != chunk[r.entity_id]}
        for entity_id in sorted(stale):
            conn.execute(
                update(statement_table)
                .where(statement_table.c.entity_id == entity_id)
                .values(canonical_id=chunk[entity_id])
            )
        changed += len(stale)
    return changed


class Resolver:
    """Judgements on the app database.

    Args:
        engine: the workspace's database engine (migrated).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def clusters(self, conn: Connection | None = None) -> Clusters:
        """The clusters as the live judgements make them now."""
        if conn is not None:
            return Clusters(_live_edges(conn))
        with self.engine.connect() as own:
            return Clusters(_live_edges(own))

    def human_links(self) -> list[tuple[str, str]]:
        """Pairs people judged one entity (live positive judgements by a person)."""
        with self.engine.connect() as conn:
            return [
                e.pair for e in _live_edges(conn) if e.human and e.judgement is Judgement.POSITIVE
            ]

    def canonical(self, entity_id: str) -> str:
        """The canonical id of an entity (itself unless merged)."""
        return self.clusters().canonical(entity_id)

    def judgement(self, left: str, right: str) -> Judgement | None:
        """What the judgements say about a pair, transitively (None: nobody knows)."""
        return self.clusters().judgement(left, right)

    def edges(self, entity_id: str, include_deleted: bool = True) -> list[Edge]:
        """Judgements touching an entity, oldest first (withdrawn ones too by default)."""
        t = resolve_judgement_table
        query = select(t).where(or_(t.c.left_id == entity_id, t.c.right_id == entity_id))
        if not include_deleted:
            query = query.where(t.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            return [_edge(r) for r in conn.execute(query.order_by(t.c.id)).all()]

    def history(self, entity_id: str) -> list[Edge]:
        """Every judgement, live or withdrawn, about any member of the entity's cluster."""
        members = self.clusters().members(entity_id)
        t = resolve_judgement_table
        out: dict[int, Edge] = {}
        with self.engine.connect() as conn:
            ids = sorted(members)
            for start in range(0, len(ids), _BATCH):
                chunk = ids[start : start + _BATCH]
                rows = conn.execute(
                    select(t).where(or_(t.c.left_id.in_(chunk), t.c.right_id.in_(chunk)))
                ).all()
                out.update({r.id: _edge(r) for r in rows})
        return [out[k] for k in sorted(out)]

    def decide(
        self,
        left: str,
        right: str,
        judgement: Judgement | str,
        actor: str,
        score: float | None = None,
        note: str | None = None,
    ) -> Edge:
        """Record a person's judgement on a pair.

        Args:
            left: one entity id.
            right: the other.
            judgement: positive, negative or unsure.
            actor: the user deciding (never :data:`AUTO`).
            score: the score the reviewer saw, if any.
            note: a reason, kept with the judgement.

        Returns:
            The new judgement.

        Raises:
            ResolveConflict: positive on clusters judged different; negative or unsure on
                records already merged (split one of them first).
            TidetraceError: the pair is one id, or the actor is the automatic one.
        """
        judgement = Judgement(judgement)
        if left == right:
            raise TidetraceError("a record cannot be judged against itself")
        if actor == AUTO or not actor.strip():
            raise TidetraceError("a judgement needs the name of the person making it")
        pair = ordered(left, right)
        with self.engine.begin() as conn:
            clusters = Clusters(_live_edges(conn))
            before = clusters.members(left) | clusters.members(right)
            current = clusters.judgement(*pair)
            if judgement is Judgement.POSITIVE and current is Judgement.NEGATIVE:
                raise ResolveConflict(self._why_negative(clusters, pair))
            if judgement is Judgement.POSITIVE:
                self._check_schemata(conn, clusters.members(left) | clusters.members(right))
            if judgement is not Judgement.POSITIVE and current is Judgement.POSITIVE:
                raise ResolveConflict(
                    f"{left} and {right} are already one entity "
                    f"({clusters.canonical(left)}); split one of them out first"
                )
            edge = self._insert(conn, pair, judgement, actor, score, note)
            conn.execute(
                delete(resolve_candidate_table).where(
                    and_(
                        resolve_candidate_table.c.left_id == pair[0],
                        resolve_candidate_table.c.right_id == pair[1],
                    )
                )
            )
            after = Clusters(_live_edges(conn))
            sync_canonical(conn, after, before | after.members(left))
            audit.append(
                conn,
                actor,
                "resolve.judge",
                target=f"{pair[0]}|{pair[1]}",
                detail={
                    "judgement": judgement.value,
                    "score": score,
                    "note": note,
                    "canonical": after.canonical(left),
                },
            )
        return edge

    def _check_schemata(self, conn: Connection, ids: set[str]) -> None:
        """Refuse to merge records whose schemata cannot be one entity (FtM rules)."""
        rows = conn.execute(
            select(statement_table.c.schema)
            .where(statement_table.c.entity_id.in_(sorted(ids)))
            .distinct()
        ).all()
        names = sorted({r[0] for r in rows})
        if len(names) > 1:
            try:
                model.common_schema(*names[:2]) if len(names) == 2 else _common(names)
            except InvalidData:
                raise ResolveConflict(
                    f"a {' and a '.join(names)} cannot be one entity; link them with a "
                    "relationship (e.g. the facility's operator) instead"
                ) from None

    def _why_negative(self, clusters: Clusters, pair: tuple[str, str]) -> str:
        lm, rm = clusters.members(pair[0]), clusters.members(pair[1])
        for edge in clusters.pairs.values():
            if edge.judgement is not Judgement.NEGATIVE:
                continue
            if (edge.left in lm and edge.right in rm) or (edge.left in rm and edge.right in lm):
                return (
                    f"{pair[0]} and {pair[1]} belong to entities that {edge.actor} judged "
                    f"different on {edge.created_at} ({edge.left} ≠ {edge.right}); "
                    "withdraw that judgement first"
                )
        return f"{pair[0]} and {pair[1]} were judged different"

    def _insert(
        self,
        conn: Connection,
        pair: tuple[str, str],
        judgement: Judgement,
        actor: str,
        score: float | None,
        note: str | None,
    ) -> Edge:
        now = utc_now()
        t = resolve_judgement_table
        conn.execute(
            update(t)
            .where(and_(t.c.left_id == pair[0], t.c.right_id == pair[1], t.c.deleted_at.is_(None)))
            .values(deleted_at=now, deleted_by=actor)
        )
        result = conn.execute(
            insert(t).values(
                left_id=pair[0],
                right_id=pair[1],
                judgement=judgement.value,
                score=score,
                actor=actor,
                created_at=now,
                note=note,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return Edge(int(key[0]), pair[0], pair[1], judgement, score, actor, now, note=note)

    def withdraw(self, left: str, right: str, actor: str, note: str | None = None) -> Edge:
        """Withdraw the live judgement on a pair (it stays in the history).

        Raises:
            NotFoundError: the pair has no live judgement.
        """
        pair = ordered(left, right)
        t = resolve_judgement_table
        with self.engine.begin() as conn:
            before = Clusters(_live_edges(conn))
            edge = before.pairs.get(pair)
            if edge is None:
                raise NotFoundError(f"no live judgement on {pair[0]} / {pair[1]}")
            now = utc_now()
            conn.execute(
                update(t).where(t.c.id == edge.id).values(deleted_at=now, deleted_by=actor)
            )
            after = Clusters(_live_edges(conn))
            sync_canonical(conn, after, before.members(left) | before.members(right))
            audit.append(
                conn,
                actor,
                "resolve.withdraw",
                target=f"{pair[0]}|{pair[1]}",
                detail={"judgement": edge.judgement.value, "by": edge.actor, "note": note},
            )
        return Edge(
            edge.id, edge.left, edge.right, edge.judgement, edge.score, edge.actor,
            edge.created_at, now, actor, edge.note,
        )  # fmt: skip

    def split(self, entity_id: str, actor: str, note: str | None = None) -> list[str]:
        """Take one record out of its entity, for good.

        Every live positive judgement touching the record is withdrawn (kept in the
        history), and a negative judgement is recorded against each piece it leaves
        behind, so that no later run merges it back. The other members keep their
        remaining links.

        Args:
            entity_id: the record to take out.
            actor: the user splitting.
            note: a reason.

        Returns:
            The ids that were in the entity with it.

        Raises:
            NotFoundError: the record is not merged with anything.
        """
        if actor == AUTO:
            raise TidetraceError("a split needs the name of the person making it")
        t = resolve_judgement_table
        with self.engine.begin() as conn:
            before = Clusters(_live_edges(conn))
            members = before.members(entity_id)
            if len(members) < 2:
                raise NotFoundError(f"{entity_id} is not merged with any other record")
            now = utc_now()
            touching = [
                e
                for e in before.pairs.values()
                if e.judgement is Judgement.POSITIVE and entity_id in e.pair
            ]
            for edge in touching:
                conn.execute(
                    update(t).where(t.c.id == edge.id).values(deleted_at=now, deleted_by=actor)
                )
            middle = Clusters(_live_edges(conn))
            rest = sorted(members - {entity_id})
            pieces: dict[str, str] = {}
            for other in rest:
                pieces.setdefault(middle.find(other), other)
            for other in sorted(pieces.values()):
                self._insert(conn, ordered(entity_id, other), Judgement.NEGATIVE, actor, None,
                             note or "split")  # fmt: skip
            after = Clusters(_live_edges(conn))
            sync_canonical(conn, after, members)
            audit.append(
                conn,
                actor,
                "resolve.split",
                target=entity_id,
                detail={"from": before.canonical(entity_id), "members": rest, "note": note},
            )
        return rest

    def apply_run(
        self,
        conn: Connection,
        results: Sequence[Any],
        run_id: int,
        match: float,
    ) -> tuple[int, int, int]:
        """Apply one run's scored pairs inside the caller's transaction.

        Pairs at or above ``match`` become automatic positive edges unless a person
        judged the pair, or judged their clusters different or was unsure about them;
        review-band pairs nobody has answered (directly or through the clusters) become
        the review queue. Pairs are applied best first, and an automatic join never makes
        one entity of two records with strong evidence against them (a chain
        海青 = Haiqing = 海清, where 海青 ≠ 海清 by their characters): such a match goes to the
        review queue instead. Automatic
        edges of earlier runs that this run does not produce again are withdrawn. Human
        judgements are never touched.

        Args:
            conn: an open transaction.
            results: :class:`~tidetrace.resolve.scoring.MatchResult` s (``left``,
                ``right``, ``score``, ``decision``, ``to_dict()``).
            run_id: the run these came from.
            match: the match band (for the note on automatic edges).

        Returns:
            Automatic edges added, automatic edges withdrawn, pairs queued.
        """
        import json

        live = _live_edges(conn)
        human = [e for e in live if e.human]
        old_auto = {e.pair: e for e in live if not e.human and e.judgement is Judgement.POSITIVE}
        human_pairs = {e.pair for e in human}
        ranked = sorted(results, key=lambda r: (-r.score, *ordered(r.left, r.right)))
        by_pair = {ordered(r.left, r.right): r for r in ranked}
        matches = [ordered(r.left, r.right) for r in ranked if r.decision == "match"]
        kept = [old_auto[p] for p in matches if p in old_auto and p not in human_pairs]
        clusters = Clusters([*human, *kept])
        for r in ranked:
            if r.decision != "match" and r.conflicting:
                clusters.keep_apart(r.left, r.right)
        touched: set[str] = set()
        blocked: set[tuple[str, str]] = set()
        for edge in old_auto.values():
            touched.update(edge.pair)
        added = 0
        kept_pairs = {e.pair for e in kept}
        for pair in matches:
            if pair in human_pairs or pair in kept_pairs:
                continue
            if clusters.find(pair[0]) == clusters.find(pair[1]):
                continue
            if not clusters.join(pair[0], pair[1], automatic=True):
                # A match that would join clusters kept apart: a person should look.
                blocked.add(pair)
                continue
            self._insert(conn, pair, Judgement.POSITIVE, AUTO, by_pair[pair].score,
                         f"run {run_id}: score at or above {match}")  # fmt: skip
            touched.update(pair)
            added += 1
        now = utc_now()
        withdrawn = 0
        t = resolve_judgement_table
        for pair, edge in old_auto.items():
            if pair in kept_pairs:
                continue
            conn.execute(update(t).where(t.c.id == edge.id).values(deleted_at=now, deleted_by=AUTO))
            withdrawn += 1
        conn.execute(delete(resolve_candidate_table))
        queued = 0
        rows = []
        for r in ranked:
            pair = ordered(r.left, r.right)
            if r.decision != "review" and pair not in blocked:
                continue
            if pair in human_pairs or clusters.judgement(*pair) is not None:
                continue
            rows.append(
                {
                    "left_id": pair[0],
                    "right_id": pair[1],
                    "score": r.score,
                    "explanation": json.dumps(r.to_dict(), ensure_ascii=False),
                    "run_id": run_id,
                    "created_at": now,
                }
            )
            queued += 1
        for start in range(0, len(rows), _BATCH):
            conn.execute(insert(resolve_candidate_table), rows[start : start + _BATCH])
        final = Clusters(_live_edges(conn))
        for ids in final.groups().values():
            touched.update(ids)
        sync_canonical(conn, final, touched)
        return added, withdrawn, queued
