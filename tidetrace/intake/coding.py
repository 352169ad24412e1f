"""Coding testimonies: answer spans tagged with ILO indicators and facts, and what they add up to.

A tag says that a span of a testimony (an answer, or a transcription or translation
version) supports or contradicts an ILO indicator or a fact, at a facility, in a period,
with a severity. It is case work sealed under the case key, and written on the custody
log. The facility view counts, per indicator and period, how many *independent*
testimonies support or contradict it: each codename (one person) counts once however many
of their testimonies or spans are tagged. Expert sign-offs are custody entries themselves.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from tidetrace.exc import TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.keys import UnlockedUser

from .questionnaire import vocabulary
from .tables import tag_table, testimony_table
from .testimony import INTAKE_ROWS, log_pending, open_testimony
from .twofactor import SecondFactor, require_factor

__all__ = [
    "STANCES",
    "VERDICTS",
    "Cell",
    "FacilityView",
    "SignOff",
    "Tag",
    "add_tag",
    "facilities",
    "facility_view",
    "list_tags",
    "normalise_period",
    "sign_off",
]

STANCES = ("supports", "contradicts")
VERDICTS = ("consistent", "inconsistent", "insufficient")
MAX_FACILITY = 255
_PERIOD = re.compile(r"^(19|20)\d{2}(-(0[1-9]|1[0-2]))?$")


@dataclass(frozen=True)
class Tag:
    """One coded span.

    Attributes:
        id: the tag id.
        testimony_id: the testimony.
        codename: the testimony's codename (the person).
        source: ``answer`` or ``transcription@N`` / ``translation@N``.
        question: the question id (answers).
        start: first character of the span.
        end: one past the last character.
        span: the tagged text.
        indicator: ILO indicator key, if any.
        fact: fact key, if any.
        stance: ``supports`` or ``contradicts``.
        severity: ``low``, ``medium`` or ``high``.
        facility: the facility (entity id or name as coded).
        period: ``YYYY`` or ``YYYY-MM``.
        author: who coded it.
        at: when.
        consent_publication: whether the person agreed to be counted in published reports.
    """

    id: str
    testimony_id: str
    codename: str
    source: str
    question: str | None
    start: int
    end: int
    span: str
    indicator: str | None
    fact: str | None
    stance: str
    severity: str
    facility: str
    period: str
    author: str
    at: str
    consent_publication: bool

    @property
    def key(self) -> str:
        """What the tag is about: the indicator, else the fact."""
        return self.indicator or self.fact or ""


@dataclass
class Cell:
    """One indicator (or fact) in one period at one facility."""

    key: str
    label: str
    period: str
    supports: set[str] = field(default_factory=set)
    contradicts: set[str] = field(default_factory=set)
    severity: dict[str, int] = field(default_factory=dict)

    @property
    def supporting(self) -> int:
        """Independent testimonies (distinct people) supporting it."""
        return len(self.supports)

    @property
    def contradicting(self) -> int:
        """Independent testimonies contradicting it."""
        return len(self.contradicts)


@dataclass(frozen=True)
class SignOff:
    """An expert's review of one cell, as recorded on the custody log."""

    facility: str
    key: str
    period: str
    verdict: str
    reviewer: str
    at: str
    note: str


@dataclass
class FacilityView:
    """Everything coded about one facility."""

    facility: str
    cells: list[Cell]
    signoffs: list[SignOff]
    testimonies: int


def normalise_period(value: str) -> str:
    """``YYYY`` or ``YYYY-MM`` (``2023/11`` and ``2023.11`` accepted).

    Raises:
        TidetraceError: anything else.
    """
    clean = value.strip().replace("/", "-").replace(".", "-")
    if len(clean) == 6 and clean[4] == "-":
        clean = f"{clean[:5]}0{clean[5]}"
    if not _PERIOD.match(clean):
        raise TidetraceError(f"period {value!r}: write YYYY or YYYY-MM")
    return clean


def _tag_context(tag_id: str) -> tuple[str, str]:
    return ("tag", tag_id)


def add_tag(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    testimony_id: str,
    *,
    start: int,
    end: int,
    facility: str,
    period: str,
    source: str = "answer",
    question: str | None = None,
    indicator: str | None = None,
    fact: str | None = None,
    stance: str = "supports",
    severity: str = "medium",
) -> Tag:
    """Tag a span of a testimony; the tag is sealed and goes on the custody log.

    Raises:
        TidetraceError: unknown indicator, fact, stance or severity; a span outside the
            text; no facility or a malformed period (every problem at once).
    """
    require_factor(actor.user, factor)
    vocab = vocabulary()
    problems = []
    if indicator is None and fact is None:
        problems.append("tag an ILO indicator, a fact, or both")
    if indicator is not None and indicator not in vocab.ilo:
        problems.append(f"unknown ILO indicator {indicator!r}")
    if fact is not None and fact not in vocab.facts:
        problems.append(f"unknown fact {fact!r}")
    if stance not in STANCES:
        problems.append(f"stance is {' or '.join(STANCES)}")
    if severity not in vocab.severity:
        problems.append(f"severity is one of {', '.join(vocab.severity)}")
    clean_facility = " ".join(facility.split())
    if not clean_facility or len(clean_facility) > MAX_FACILITY:
        problems.append(f"facility is 1-{MAX_FACILITY} characters")
    try:
        clean_period = normalise_period(period)
    except TidetraceError as exc:
        problems.append(exc.detail)
    if problems:
        raise TidetraceError("; ".join(problems))
    log_pending(engine, actor, case)
    tag_id = new_id("tag")
    with engine.begin() as conn:
        testimony = open_testimony(conn, case, testimony_id)
        # Coding reads the testimony: that read is on the log like any other.
        custody.append(
            conn,
            case,
            actor,
            "view",
            target=testimony_id,
            details={"kind": "testimony", "what": source, "purpose": "coding"},
        )
        text = testimony.source_text(source, question)
        if not 0 <= start < end <= len(text):
            raise TidetraceError(f"span {start}-{end} is outside the text (0-{len(text)})")
        body = {
            "testimony_id": testimony_id,
            "codename": testimony.codename,
            "source": source,
            "question": question if source == "answer" else None,
            "start": start,
            "end": end,
            "span": text[start:end],
            "indicator": indicator,
            "fact": fact,
            "stance": stance,
            "severity": severity,
            "facility": clean_facility,
            "period": clean_period,
            "author": actor.name,
            "at": now_iso(),
            "consent_publication": testimony.consent.publication,
        }
        sealed = case.seal_json(body, *_tag_context(tag_id))
        conn.execute(
            tag_table.insert().values(
                id=tag_id,
                case_id=case.case_id,
                testimony_id=testimony_id,
                created_day=day_now(),
                body_enc=sealed,
            )
        )
        custody.append(
            conn,
            case,
            actor,
            "claim",
            target=tag_id,
            refs={INTAKE_ROWS: {tag_id: sha256_hex(sealed)}},
            details={
                "kind": "tag",
                "testimony": testimony_id,
                "indicator": indicator,
                "fact": fact,
                "stance": stance,
                "severity": severity,
                "facility": clean_facility,
                "period": clean_period,
            },
        )
    return _to_tag(tag_id, body)


def _to_tag(tag_id: str, body: dict[str, Any]) -> Tag:
    return Tag(id=tag_id, **body)


def list_tags(engine: Engine, case: CaseKeyring, testimony_id: str | None = None) -> list[Tag]:
    """A case's tags (optionally of one testimony), decrypted. Members only."""
    query = select(tag_table.c.id, tag_table.c.body_enc).where(tag_table.c.case_id == case.case_id)
    if testimony_id is not None:
        query = query.where(tag_table.c.testimony_id == testimony_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    tags = [_to_tag(r.id, case.open_json(r.body_enc, *_tag_context(r.id))) for r in rows]
    return sorted(tags, key=lambda t: (t.facility, t.key, t.period, t.at))


def facilities(engine: Engine, case: CaseKeyring) -> list[str]:
    """Facilities the case's tags name."""
    return sorted({t.facility for t in list_tags(engine, case)})


def _signoffs(engine: Engine, case: CaseKeyring, facility: str) -> list[SignOff]:
    out = []
    for opened in custody.history(engine, case):
        payload = opened.payload
        if payload.get("kind") == "signoff" and payload.get("facility") == facility:
            out.append(
                SignOff(
                    facility=facility,
                    key=payload["key"],
                    period=payload["period"],
                    verdict=payload["verdict"],
                    reviewer=opened.entry.actor,
                    at=opened.at,
                    note=payload.get("note", ""),
                )
            )
    return out


def facility_view(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    facility: str,
    *,
    by_year: bool = False,
) -> FacilityView:
    """Per indicator (and fact) and period: independent supporting/contradicting testimonies.

    Args:
        engine: the database.
        actor: a member.
        case: the opened case.
        factor: the member's passed second factor.
        facility: the facility as coded.
        by_year: group months into years.
    """
    require_factor(actor.user, factor)
    vocab = vocabulary()
    cells: dict[tuple[str, str], Cell] = {}
    people: set[str] = set()
    for tag in list_tags(engine, case):
        if tag.facility != facility:
            continue
        period = tag.period[:4] if by_year else tag.period
        for key in filter(None, (tag.indicator, tag.fact)):
            cell = cells.get((key, period))
            if cell is None:
                cell = cells[(key, period)] = Cell(key, vocab.label(key), period)
            target = cell.supports if tag.stance == "supports" else cell.contradicts
            target.add(tag.codename)
            cell.severity[tag.severity] = cell.severity.get(tag.severity, 0) + 1
        people.add(tag.codename)
    ordered = sorted(
        cells.values(),
        key=lambda c: (
            c.key not in vocab.ilo,
            list(vocab.ilo).index(c.key) if c.key in vocab.ilo else 0,
            c.key,
            c.period,
        ),
    )
    return FacilityView(facility, ordered, _signoffs(engine, case, facility), len(people))


def sign_off(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    *,
    facility: str,
    key: str,
    period: str,
    verdict: str,
    note: str = "",
) -> SignOff:
    """Record an expert's review of one cell (consistency of the testimonies) on the custody log.

    Raises:
        TidetraceError: unknown verdict, indicator or fact; bad period; nothing coded there.
    """
    require_factor(actor.user, factor)
    vocab = vocabulary()
    if verdict not in VERDICTS:
        raise TidetraceError(f"verdict is one of {', '.join(VERDICTS)}")
    if key not in vocab.ilo and key not in vocab.facts:
        raise TidetraceError(f"unknown indicator or fact {key!r}")
    clean_period = normalise_period(period)
    coded = [
        t
        for t in list_tags(engine, case)
        if t.facility == facility
        and key in (t.indicator, t.fact)
        and t.period.startswith(clean_period)
    ]
    if not coded:
        raise TidetraceError(f"nothing is coded for {key} at {facility!r} in {clean_period}")
    clean_note = note.strip()[:2000]
    with engine.begin() as conn:
        entry = custody.append(
            conn,
            case,
            actor,
            "claim",
            target=new_id("so"),
            details={
                "kind": "signoff",
                "facility": facility,
                "key": key,
                "period": clean_period,
                "verdict": verdict,
                "note": clean_note,
                "tags": sorted(t.id for t in coded),
            },
        )
    return SignOff(facility, key, clean_period, verdict, actor.name, entry.day, clean_note)


def testimony_codenames(engine: Engine, case_id: str) -> dict[str, str]:
    """Testimony id -> codename for a case."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(testimony_table.c.id, testimony_table.c.codename).where(
                testimony_table.c.case_id == case_id
            )
        )
        return {r.id: r.codename for r in rows}


def cells_by_key(view: FacilityView) -> dict[str, list[Cell]]:
    """The view's cells grouped by indicator or fact key."""
    grouped: dict[str, list[Cell]] = defaultdict(list)
    for cell in view.cells:
        grouped[cell.key].append(cell)
    return dict(grouped)
