"""The lookup's "Evidence in your cases" section, for case members only.

Why the public lookup never shows evidence: claims and their links live in the vault
(:mod:`tidetrace.vault`), sealed under each case's key. A claim's text, which entity it is
about, its stance and its grade are all inside the seal, and the server can only open
them with the keys of a member who unlocked them with their password (at the terminal, or
at login for a web session). An anonymous visitor holds no key, so nothing here runs for
them; and even a member's view of the public page is built first without evidence and then
extended, so nothing sealed can reach the shared public answer (``/api/lookup``) by
accident. Unpublished claims can expose sources and witnesses and warn a plant before a
story runs; keeping them behind the case key is the point of the vault.

Opening a claim this way is a read of sealed material, so each claim shown gets a signed
``view`` entry on its case's custody log, as opening an item does in the vault.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tidetrace.registry.lookup import EvidenceClaim, LookupResult, Registry, cluster_members
from tidetrace.workspace import Workspace

if TYPE_CHECKING:
    from tidetrace.vault.keys import UnlockedUser

__all__ = ["add_case_evidence", "case_evidence"]


def _targets(engine: Engine, result: LookupResult) -> dict[str, str]:
    """Ids a claim may name to be about this facility, each with how it relates."""
    facility = result.facility
    if facility is None:
        return {}
    reg = Registry(engine)
    operators = [o.id for o in result.operators]
    clusters = cluster_members(reg, [facility.id, *operators])
    targets: dict[str, str] = {}
    for member in clusters[facility.id]:
        targets[member] = "facility"
    for oid in operators:
        for member in clusters[oid]:
            targets.setdefault(member, "operator")
    for cand in result.candidates:
        targets.setdefault(cand.plant.id, "candidate")
    return targets


def _canonical(engine: Engine, ids: Iterable[str]) -> dict[str, str]:
    from tidetrace.graph.flags import canonical_ids

    with engine.connect() as conn:
        return canonical_ids(conn, ids)


def case_evidence(
    ws: Workspace,
    result: LookupResult,
    actor: "UnlockedUser",
    case_ref: str | None = None,
) -> list[EvidenceClaim]:
    """Claims in the actor's cases about the looked-up facility, its cluster or candidates.

    Args:
        ws: the workspace.
        result: a lookup that found a facility.
        actor: the member, with their keys unlocked.
        case_ref: only this case (id or name); all the actor's cases when None.

    Returns:
        The claims, each recorded as viewed on its case's custody log.

    Raises:
        NotFoundError: ``case_ref`` is not one of the actor's cases.
        PermissionDenied: the actor's role may not work on cases.
    """
    from tidetrace.vault import custody
    from tidetrace.vault.cases import list_cases, open_case, resolve_case
    from tidetrace.vault.claims import ILO_INDICATORS, list_claims

    targets = _targets(ws.engine, result)
    if not targets:
        return []
    cases = list_cases(ws.engine, actor)
    if case_ref is not None:
        wanted = resolve_case(ws.engine, actor, case_ref)
        cases = [c for c in cases if c.id == wanted]
    out: list[EvidenceClaim] = []
    for case in cases:
        keyring = open_case(ws.engine, actor, case.id)
        claims = list_claims(ws.engine, keyring)
        canon = _canonical(ws.engine, {a for c in claims for a in c.body.about})
        canonical_targets = {canon.get(t, t): via for t, via in targets.items()}
        shown = []
        for claim in claims:
            via = None
            for about in claim.body.about:
                via = targets.get(about) or canonical_targets.get(canon.get(about, about))
                if via is not None:
                    break
            if via is None:
                continue
            indicator = claim.body.indicator
            shown.append(
                EvidenceClaim(
                    case_id=case.id,
                    case_name=case.name,
                    claim_id=claim.id,
                    text=claim.body.text,
                    via=via,
                    about=list(claim.body.about),
                    indicator=ILO_INDICATORS.get(indicator, indicator) if indicator else None,
                    period=claim.body.period,
                    supporting=len(claim.supporting),
                    contradicting=len(claim.contradicting),
                    grades=sorted({lk.body.grade for lk in claim.links if lk.body.grade}),
                    item_count=len({lk.item_id for lk in claim.links}),
                    created_day=claim.created_day,
                )
            )
        if shown:
            with ws.engine.begin() as conn:
                for found in shown:
                    custody.append(
                        conn,
                        keyring,
                        actor,
                        "view",
                        found.claim_id,
                        details={"via": "lookup", "code": result.code},
                    )
        out.extend(shown)
    return out


def add_case_evidence(
    ws: Workspace, result: LookupResult, actor: "UnlockedUser", case_ref: str | None = None
) -> LookupResult:
    """``result`` with its ``evidence`` filled for a member (see :func:`case_evidence`)."""
    result.evidence = case_evidence(ws, result, actor, case_ref)
    return result
