"""Candidate links other parts of tidetrace propose: FtM ``Similar`` entities in the store.

The registry ingest (``tidetrace registry link-plants`` and ``ingest registry``) links a
registry facility to a plant known by name only with a ``Similar`` entity (``candidate``,
``match``, ``confidenceScore``, ``criteria``, ``matcher``) rather than merging them. Such a
link is a lead, not a verdict: resolution scores the pair with the same scorer as every
other pair, so it lands in the band its names and evidence earn (linked, queued for review,
or left apart), and the lead's provenance travels with the explanation. Blocking may miss a
pair the registry's own matcher found, so a lead is scored whether or not blocking found it.
People's judgements on the pair win, as for any other pair
(:meth:`~tidetrace.resolve.judgements.Resolver.apply_run`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from tidetrace.resolve.features import prepare
from tidetrace.resolve.judgements import ordered
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import MatchResult, Scorer
from tidetrace.store.tables import statement_table
from tidetrace.workspace import Workspace

__all__ = ["CandidateLink", "read_candidate_links", "score_candidate_links"]


@dataclass(frozen=True)
class CandidateLink:
    """One ``Similar`` entity: a proposed link between two records, with its provenance.

    Attributes:
        id: the ``Similar`` entity's id.
        left: its ``candidate`` (e.g. a registry facility).
        right: its ``match`` (e.g. a plant known by name only).
        confidence: its ``confidenceScore`` as written, when given.
        criteria: why its matcher proposed it.
        matcher: what proposed it.
        dataset: the dataset it was stored in.
        origin: the origin of its statements (file, command).
    """

    id: str
    left: str
    right: str
    confidence: str | None
    criteria: str
    matcher: str
    dataset: str
    origin: str

    def describe(self) -> str:
        """One line for the explanation: who proposed the pair, how sure, why, from where."""
        parts = [f"candidate link {self.id} in {self.dataset}"]
        if self.matcher:
            parts.append(f"by {self.matcher}")
        if self.confidence:
            parts.append(f"confidence {self.confidence}")
        text = ", ".join(parts)
        if self.criteria:
            text += f": {self.criteria}"
        if self.origin:
            text += f" [{self.origin}]"
        return text


def read_candidate_links(ws: Workspace) -> list[CandidateLink]:
    """Every ``Similar`` entity of the store with both ends given, by id."""
    st = statement_table
    query = (
        select(st.c.entity_id, st.c.prop, st.c.value, st.c.dataset, st.c.origin)
        .where(st.c.schema == "Similar")
        .order_by(st.c.entity_id, st.c.prop, st.c.id)
    )
    found: dict[str, dict[str, str]] = {}
    with ws.engine.connect() as conn:
        for row in conn.execute(query):
            values = found.setdefault(
                row.entity_id, {"dataset": row.dataset, "origin": row.origin or ""}
            )
            # One value per property: the first (a re-import writes the same ones again).
            values.setdefault(row.prop, row.value)
    links = []
    for link_id, values in found.items():
        left, right = values.get("candidate"), values.get("match")
        if not left or not right or left == right:
            continue
        links.append(
            CandidateLink(
                id=link_id,
                left=left,
                right=right,
                confidence=values.get("confidenceScore"),
                criteria=values.get("criteria", ""),
                matcher=values.get("matcher", ""),
                dataset=values["dataset"],
                origin=values["origin"],
            )
        )
    return links


def score_candidate_links(
    results: Sequence[MatchResult],
    links: Sequence[CandidateLink],
    records: Mapping[str, Record],
    scorer: Scorer,
) -> list[MatchResult]:
    """The engine's results with every candidate link scored and its provenance attached.

    A link between records the engine already scored keeps that score and gains the lead;
    a link blocking did not find is scored here. Links to records not being resolved
    (removed, or not resolvable) are skipped.
    """
    by_pair = {ordered(r.left, r.right): r for r in results}
    out = list(results)
    for link in links:
        left, right = records.get(link.left), records.get(link.right)
        if left is None or right is None:
            continue
        pair = ordered(left.id, right.id)
        result = by_pair.get(pair)
        if result is None:
            result = scorer.compare(prepare(left), prepare(right))
            by_pair[pair] = result
            out.append(result)
        lead = link.describe()
        if lead not in result.leads:
            result.leads.append(lead)
    return out
