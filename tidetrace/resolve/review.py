"""The review queue, shared by ``tidetrace review`` and the web review page.

A queue item is a candidate pair in the review band, shown as the two entities side by
side — every value with its dataset, origin and dates — and the explanation of the score.
Pairs that the judgements already answer, directly or through the clusters (A=B and B=C:
no question about A=C; A≠B and B=C: A≠C), are skipped, so one judgement can clear several
items.
"""

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.resolve.judgements import Edge, Judgement, Resolver, ordered
from tidetrace.resolve.tables import resolve_candidate_table
from tidetrace.store.entities import EntityStore
from tidetrace.views import EntityView, entity_view

__all__ = ["KEYS", "Candidate", "ReviewItem", "candidates", "judge", "judge_many", "review_item"]

# One key per answer, the same in the terminal and on the web page.
KEYS: dict[str, Judgement | None] = {
    "y": Judgement.POSITIVE,
    "n": Judgement.NEGATIVE,
    "u": Judgement.UNSURE,
    "s": None,
}
MAX_BULK = 200


@dataclass(frozen=True)
class Candidate:
    """A pair in the review queue.

    Attributes:
        left: one record id.
        right: the other.
        score: its score.
        explanation: the score's explanation (``MatchResult.to_dict()``).
        run_id: the run that queued it.
    """

    left: str
    right: str
    score: float
    explanation: dict[str, Any]
    run_id: int

    @property
    def key(self) -> str:
        """The pair as one string (``left|right``), as forms and the audit log write it."""
        return f"{self.left}|{self.right}"


@dataclass
class ReviewItem:
    """What a reviewer sees for one pair.

    Attributes:
        candidate: the pair, its score and explanation.
        left: the left entity with the provenance of every value (None if gone).
        right: the right entity (None if gone).
        left_members: ids merged into the left entity so far.
        right_members: ids merged into the right entity so far.
    """

    candidate: Candidate
    left: EntityView | None
    right: EntityView | None
    left_members: list[str] = field(default_factory=list)
    right_members: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "left": self.candidate.left,
            "right": self.candidate.right,
            "score": self.candidate.score,
            "explanation": self.candidate.explanation,
            "left_entity": self.left.to_dict() if self.left else None,
            "right_entity": self.right.to_dict() if self.right else None,
            "left_members": self.left_members,
            "right_members": self.right_members,
        }


def _row_candidate(row: Any) -> Candidate:
    try:
        explanation = json.loads(row.explanation)
    except ValueError:
        explanation = {}
    return Candidate(row.left_id, row.right_id, float(row.score), explanation, int(row.run_id))


def candidates(engine: Engine, limit: int = 50, offset: int = 0) -> tuple[list[Candidate], int]:
    """Open candidates, best score first, and how many are open in all.

    Args:
        engine: the workspace database.
        limit: at most this many.
        offset: skip this many open ones first (paging).
    """
    clusters = Resolver(engine).clusters()
    out: list[Candidate] = []
    open_count = 0
    t = resolve_candidate_table
    with engine.connect() as conn:
        rows = conn.execute(select(t).order_by(t.c.score.desc(), t.c.left_id, t.c.right_id))
        for row in rows:
            if clusters.judgement(row.left_id, row.right_id) is not None:
                continue
            if open_count >= offset and len(out) < limit:
                out.append(_row_candidate(row))
            open_count += 1
    return out, open_count


def _view(store: EntityStore, entity_id: str) -> EntityView | None:
    try:
        return entity_view(store, entity_id)
    except NotFoundError:
        return None


def review_item(engine: Engine, candidate: Candidate) -> ReviewItem:
    """The two sides of a candidate, with provenance and the members merged so far."""
    store = EntityStore(engine)
    clusters = Resolver(engine).clusters()
    return ReviewItem(
        candidate=candidate,
        left=_view(store, candidate.left),
        right=_view(store, candidate.right),
        left_members=sorted(clusters.members(candidate.left)),
        right_members=sorted(clusters.members(candidate.right)),
    )


def iter_items(engine: Engine, limit: int) -> Iterator[ReviewItem]:
    """Open items one by one, re-reading the queue after each so answers count at once."""
    seen: set[tuple[str, str]] = set()
    for _ in range(limit):
        batch, _count = candidates(engine, limit=len(seen) + 1)
        fresh = [c for c in batch if (c.left, c.right) not in seen]
        if not fresh:
            return
        seen.add((fresh[0].left, fresh[0].right))
        yield review_item(engine, fresh[0])


def _candidate_score(engine: Engine, left: str, right: str) -> float | None:
    pair = ordered(left, right)
    t = resolve_candidate_table
    with engine.connect() as conn:
        row = conn.execute(
            select(t.c.score).where(t.c.left_id == pair[0]).where(t.c.right_id == pair[1])
        ).first()
    return float(row[0]) if row is not None else None


def judge(
    engine: Engine,
    left: str,
    right: str,
    judgement: Judgement | str,
    actor: str,
    note: str | None = None,
) -> Edge:
    """Record a reviewer's answer on a pair (the candidate's score is kept with it)."""
    score = _candidate_score(engine, left, right)
    return Resolver(engine).decide(left, right, judgement, actor, score=score, note=note)


def judge_many(
    engine: Engine,
    pairs: Sequence[tuple[str, str]],
    judgement: Judgement | str,
    actor: str,
    note: str | None = None,
) -> tuple[list[Edge], list[str]]:
    """Answer several pairs the same way (bulk review).

    Each pair is one judgement; a pair that conflicts with an earlier one is reported,
    not judged, and the others still are.

    Returns:
        The judgements made, and one message per pair that was not judged.

    Raises:
        TidetraceError: more than :data:`MAX_BULK` pairs at once.
    """
    if len(pairs) > MAX_BULK:
        raise TidetraceError(f"at most {MAX_BULK} pairs at once")
    made: list[Edge] = []
    problems: list[str] = []
    for left, right in pairs:
        try:
            made.append(judge(engine, left, right, judgement, actor, note))
        except TidetraceError as exc:
            problems.append(f"{left} / {right}: {exc.detail}")
    return made, problems
