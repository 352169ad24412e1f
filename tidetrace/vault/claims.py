"""Claims and the evidence for and against them.

A claim is a statement an investigation may end up making — "North Korean workers present
at Facility X, 2023-11", "machines labelled in Korean", an ILO forced-labour indicator at a
facility. Evidence items link to it as support or contradiction, each link with a grade,
so risk assessment and reports cite the evidence, not the investigator's memory. Claim
text, entities, stance and grade are sealed like items; the links' custody entries are
signed like every other change.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.items import get_item, parse_grade
from tidetrace.vault.keys import UnlockedUser
from tidetrace.vault.tables import claim_link_table, claim_table
from tidetrace.workspace import Workspace

__all__ = [
    "ILO_INDICATORS",
    "STANCES",
    "Claim",
    "ClaimBody",
    "Link",
    "LinkBody",
    "add_claim",
    "claims_for_item",
    "get_claim",
    "link",
    "list_claims",
    "parse_indicator",
]

# The ILO's 11 indicators of forced labour (ILO, "Indicators of Forced Labour", 2012).
ILO_INDICATORS: dict[str, str] = {
    "abuse_of_vulnerability": "Abuse of vulnerability",
    "deception": "Deception",
    "restriction_of_movement": "Restriction of movement",
    "isolation": "Isolation",
    "physical_sexual_violence": "Physical and sexual violence",
    "intimidation_threats": "Intimidation and threats",
    "retention_of_identity_documents": "Retention of identity documents",
    "withholding_of_wages": "Withholding of wages",
    "debt_bondage": "Debt bondage",
    "abusive_conditions": "Abusive working and living conditions",
    "excessive_overtime": "Excessive overtime",
}
STANCES = ("supports", "contradicts")
MAX_CLAIM = 2000


@dataclass
class ClaimBody:
    """A claim's sealed content."""

    text: str
    about: list[str] = field(default_factory=list)
    indicator: str | None = None
    period: str | None = None
    author: str = ""
    at: str = ""


@dataclass
class LinkBody:
    """A link's sealed content: how an item bears on a claim."""

    stance: str
    grade: str | None = None
    note: str | None = None
    author: str = ""
    at: str = ""


@dataclass(frozen=True)
class Link:
    """An evidence item linked to a claim."""

    id: str
    claim_id: str
    item_id: str
    created_day: str
    body: LinkBody
    item_title: str = ""


@dataclass(frozen=True)
class Claim:
    """A claim with its links, opened."""

    id: str
    case_id: str
    created_day: str
    body: ClaimBody
    links: list[Link] = field(default_factory=list)

    @property
    def supporting(self) -> list[Link]:
        """Links that support the claim."""
        return [lk for lk in self.links if lk.body.stance == "supports"]

    @property
    def contradicting(self) -> list[Link]:
        """Links that contradict the claim."""
        return [lk for lk in self.links if lk.body.stance == "contradicts"]


def parse_indicator(value: str) -> str:
    """An ILO indicator key from its key or label, e.g. "restriction of movement".

    Raises:
        TidetraceError: not one of the 11 indicators.
    """
    clean = value.strip().lower().replace("-", " ").replace("_", " ")
    for key, label in ILO_INDICATORS.items():
        if clean in (key.replace("_", " "), label.lower()):
            return key
    raise TidetraceError(
        f"unknown ILO indicator {value!r}; one of: {', '.join(ILO_INDICATORS.values())}"
    )


def _claim_context(claim_id: str) -> tuple[str, str, str]:
    return ("claim", claim_id, "body")


def _link_context(link_id: str) -> tuple[str, str, str]:
    return ("claim-link", link_id, "body")


def add_claim(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    text: str,
    about: list[str] | None = None,
    indicator: str | None = None,
    period: str | None = None,
) -> Claim:
    """Write a claim into a case (sealed; a signed custody entry records it)."""
    clean = " ".join(text.split())
    if not clean or len(clean) > MAX_CLAIM:
        raise TidetraceError(f"a claim is 1-{MAX_CLAIM} characters")
    body = ClaimBody(
        text=clean,
        about=list(about or []),
        indicator=parse_indicator(indicator) if indicator else None,
        period=period.strip() if period else None,
        author=actor.name,
        at=now_iso(),
    )
    claim_id = new_id("cl")
    sealed = keyring.seal_json(asdict(body), *_claim_context(claim_id))
    with ws.engine.begin() as conn:
        conn.execute(
            claim_table.insert().values(
                id=claim_id, case_id=keyring.case_id, created_day=day_now(), body_enc=sealed
            )
        )
        custody.append(
            conn,
            keyring,
            actor,
            "claim",
            claim_id,
            refs={"rows": {claim_id: sha256_hex(sealed)}},
            details={"claim": asdict(body)},
        )
    return Claim(claim_id, keyring.case_id, day_now(), body)


def link(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    claim_id: str,
    item_id: str,
    stance: str = "supports",
    grade: str | None = None,
    note: str | None = None,
) -> Link:
    """Link an item to a claim as support or contradiction, with a grade.

    The grade defaults to the item's own grade at the time of linking.

    Raises:
        NotFoundError: no such claim or item in this case.
        TidetraceError: a stance other than supports/contradicts, or a bad grade.
    """
    if stance not in STANCES:
        raise TidetraceError(f"stance is one of: {', '.join(STANCES)}")
    item = get_item(ws.engine, keyring, item_id)
    body = LinkBody(
        stance=stance,
        grade=parse_grade(grade) if grade else item.meta.grade,
        note=note.strip()[:2000] if note else None,
        author=actor.name,
        at=now_iso(),
    )
    link_id = new_id("ln")
    sealed = keyring.seal_json(asdict(body), *_link_context(link_id))
    with ws.engine.begin() as conn:
        _claim_row(conn, keyring, claim_id)
        conn.execute(
            claim_link_table.insert().values(
                id=link_id,
                case_id=keyring.case_id,
                claim_id=claim_id,
                item_id=item_id,
                created_day=day_now(),
                body_enc=sealed,
            )
        )
        custody.append(
            conn,
            keyring,
            actor,
            "link",
            item_id,
            refs={"rows": {link_id: sha256_hex(sealed)}},
            details={"claim": claim_id, "link": link_id, **asdict(body)},
        )
    return Link(link_id, claim_id, item_id, day_now(), body, item.title)


def _claim_row(conn: Connection, keyring: CaseKeyring, claim_id: str) -> Any:
    row = conn.execute(
        select(claim_table).where(
            claim_table.c.id == claim_id, claim_table.c.case_id == keyring.case_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no claim {claim_id!r} in this case")
    return row


def _open_claim(keyring: CaseKeyring, row: Any) -> ClaimBody:
    return ClaimBody(**keyring.open_json(row.body_enc, *_claim_context(row.id)))


def _links(
    conn: Connection,
    keyring: CaseKeyring,
    engine: Engine,
    claim_id: str | None,
    item_id: str | None,
) -> list[Link]:
    query = select(claim_link_table).where(claim_link_table.c.case_id == keyring.case_id)
    if claim_id is not None:
        query = query.where(claim_link_table.c.claim_id == claim_id)
    if item_id is not None:
        query = query.where(claim_link_table.c.item_id == item_id)
    out = []
    titles: dict[str, str] = {}
    for row in conn.execute(query.order_by(claim_link_table.c.created_day, claim_link_table.c.id)):
        body = LinkBody(**keyring.open_json(row.body_enc, *_link_context(row.id)))
        if row.item_id not in titles:
            titles[row.item_id] = get_item(engine, keyring, row.item_id).title
        out.append(
            Link(row.id, row.claim_id, row.item_id, row.created_day, body, titles[row.item_id])
        )
    return out


def get_claim(engine: Engine, keyring: CaseKeyring, claim_id: str) -> Claim:
    """A claim with every linked item.

    Raises:
        NotFoundError: no such claim in this case.
    """
    with engine.connect() as conn:
        row = _claim_row(conn, keyring, claim_id)
        links = _links(conn, keyring, engine, claim_id, None)
    return Claim(row.id, row.case_id, row.created_day, _open_claim(keyring, row), links)


def list_claims(engine: Engine, keyring: CaseKeyring, about: str | None = None) -> list[Claim]:
    """A case's claims with their links (optionally only those about an entity)."""
    out = []
    with engine.connect() as conn:
        rows = conn.execute(
            select(claim_table)
            .where(claim_table.c.case_id == keyring.case_id)
            .order_by(claim_table.c.created_day, claim_table.c.id)
        ).all()
        for row in rows:
            body = _open_claim(keyring, row)
            if about is not None and about not in body.about:
                continue
            links = _links(conn, keyring, engine, row.id, None)
            out.append(Claim(row.id, row.case_id, row.created_day, body, links))
    return out


def claims_for_item(engine: Engine, keyring: CaseKeyring, item_id: str) -> list[tuple[Claim, Link]]:
    """The claims an item is linked to, with the link."""
    out = []
    with engine.connect() as conn:
        for lk in _links(conn, keyring, engine, None, item_id):
            row = _claim_row(conn, keyring, lk.claim_id)
            out.append((Claim(row.id, row.case_id, row.created_day, _open_claim(keyring, row)), lk))
    return out
