"""Publication safety: k-suppressed aggregates for analysts, quotes only after redaction review.

Aggregates count independent testimonies (distinct codenames) per facility and indicator
(and period), only from people who agreed to be counted. Any cell under ``k`` (default 3)
is published as "fewer than k" with no number, and no row or column totals are published
that would let a suppressed cell be worked out by subtraction. A member computes and
releases a snapshot; analysts see snapshots only — they hold no key that could compute
anything finer.

A quote leaves tidetrace only as its reviewed, redacted text: never with its codename,
testimony id, dates or anything else that links it to a person (there is no such link to
carry: the system holds none).
"""

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update

from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.keys import UnlockedUser

from .coding import facilities, list_tags
from .questionnaire import get_questionnaire, vocabulary
from .redaction import find_flags
from .tables import aggregate_table, quote_table
from .testimony import INTAKE_ROWS, log_pending, open_testimony
from .twofactor import SecondFactor, require_factor

__all__ = [
    "DEFAULT_K",
    "Aggregates",
    "Quote",
    "RedactionPending",
    "compute_aggregates",
    "export_quote",
    "get_quote",
    "list_published",
    "propose_quote",
    "publish_aggregates",
    "review_quote",
]

DEFAULT_K = 3
MIN_K = 2
MAX_QUOTE = 2000


class RedactionPending(PermissionDenied):
    """A quote was asked for before its redaction review approved it."""

    STATUS = 409


@dataclass
class Aggregates:
    """Counts per facility and indicator, already suppressed.

    Attributes:
        k: the threshold.
        by_year: periods are years (months merged).
        rows: one per facility: ``{"facility", "testimonies", "cells": [...]}``; each cell
            ``{"key", "label", "period", "count"}`` with ``count`` None when suppressed.
    """

    k: int
    by_year: bool
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (what is stored and shown to analysts)."""
        return {"k": self.k, "by_year": self.by_year, "rows": self.rows}


def _suppress(count: int, k: int) -> int | None:
    return count if count >= k else None


def compute_aggregates(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    *,
    k: int = DEFAULT_K,
    by_year: bool = True,
) -> Aggregates:
    """Suppressed counts of independent supporting testimonies, from people who consented.

    Raises:
        TidetraceError: ``k`` below the minimum.
    """
    require_factor(actor.user, factor)
    if k < MIN_K:
        raise TidetraceError(f"k is at least {MIN_K}: a single testimony is never a statistic")
    vocab = vocabulary()
    tags = [t for t in list_tags(engine, case) if t.consent_publication and t.stance == "supports"]
    out = Aggregates(k=k, by_year=by_year)
    for facility in facilities(engine, case):
        mine = [t for t in tags if t.facility == facility]
        people = {t.codename for t in mine}
        cells: dict[tuple[str, str], set[str]] = {}
        for tag in mine:
            if tag.indicator is None:
                continue
            period = tag.period[:4] if by_year else tag.period
            cells.setdefault((tag.indicator, period), set()).add(tag.codename)
        out.rows.append(
            {
                "facility": facility,
                "testimonies": _suppress(len(people), k),
                "cells": [
                    {
                        "key": key,
                        "label": vocab.label(key),
                        "period": period,
                        "count": _suppress(len(who), k),
                    }
                    for (key, period), who in sorted(cells.items())
                ],
            }
        )
    return out


def publish_aggregates(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    *,
    title: str,
    k: int = DEFAULT_K,
    by_year: bool = True,
) -> str:
    """Release a suppressed snapshot to analysts; an export entry on the custody log.

    Returns:
        The snapshot id.
    """
    aggregates = compute_aggregates(engine, actor, case, factor, k=k, by_year=by_year)
    clean_title = " ".join(title.split())[:200] or "Aggregates"
    snapshot_id = new_id("agg")
    body = json.dumps({"title": clean_title, **aggregates.to_dict()}, ensure_ascii=False)
    with engine.begin() as conn:
        conn.execute(
            aggregate_table.insert().values(id=snapshot_id, created_day=day_now(), k=k, body=body)
        )
        custody.append(
            conn,
            case,
            actor,
            "export",
            target=snapshot_id,
            refs={INTAKE_ROWS: {snapshot_id: sha256_hex(body.encode("utf-8"))}},
            details={"kind": "aggregates", "title": clean_title, "k": k},
        )
    return snapshot_id


def list_published(engine: Engine) -> list[dict[str, Any]]:
    """Every released snapshot, newest first (what analysts may see)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(aggregate_table).order_by(
                aggregate_table.c.created_day.desc(), aggregate_table.c.id
            )
        ).all()
    out = []
    for r in rows:
        body = json.loads(r.body)
        out.append({"id": r.id, "day": r.created_day, **body})
    return out


@dataclass(frozen=True)
class Quote:
    """A quote and its review.

    Attributes:
        id: the quote id.
        testimony_id: where it comes from (never exported).
        status: ``pending`` or ``approved``.
        text: the span as said (members only).
        language: its language.
        question: the question it answers (id), if an answer.
        questionnaire: questionnaire reference.
        flags: what the automatic check flagged in the original text.
        redacted: the reviewed text (approved only).
        kept: flags kept on purpose in the reviewed text -> reason.
        proposed_by: who proposed it.
        reviewed_by: who approved it.
    """

    id: str
    testimony_id: str
    status: str
    text: str
    language: str
    question: str | None
    questionnaire: str
    flags: list[dict[str, Any]]
    redacted: str | None
    kept: dict[str, str]
    proposed_by: str
    reviewed_by: str | None


def _quote_context(quote_id: str) -> tuple[str, str]:
    return ("quote", quote_id)


def _to_quote(quote_id: str, testimony_id: str, status: str, body: dict[str, Any]) -> Quote:
    review = body.get("review") or {}
    return Quote(
        id=quote_id,
        testimony_id=testimony_id,
        status=status,
        text=body["text"],
        language=body["language"],
        question=body.get("question"),
        questionnaire=body["questionnaire"],
        flags=body["flags"],
        redacted=review.get("redacted"),
        kept=review.get("kept", {}),
        proposed_by=body["proposed_by"],
        reviewed_by=review.get("reviewer"),
    )


def propose_quote(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    testimony_id: str,
    *,
    start: int,
    end: int,
    source: str = "answer",
    question: str | None = None,
) -> Quote:
    """Propose a span for quotation; it is flagged and waits for a redaction review.

    Raises:
        PermissionDenied: the person did not agree to be quoted.
        TidetraceError: the span is outside the text or too long.
    """
    require_factor(actor.user, factor)
    log_pending(engine, actor, case)
    quote_id = new_id("qt")
    with engine.begin() as conn:
        testimony = open_testimony(conn, case, testimony_id)
        custody.append(
            conn,
            case,
            actor,
            "view",
            target=testimony_id,
            details={"kind": "testimony", "what": source, "purpose": "quote"},
        )
        if not testimony.consent.quotation:
            raise PermissionDenied("the person did not agree to be quoted: no quote can be made")
        text = testimony.source_text(source, question)
        if not 0 <= start < end <= len(text) or end - start > MAX_QUOTE:
            raise TidetraceError(f"a quote is a span of 1-{MAX_QUOTE} characters inside the text")
        span = text[start:end]
        language = testimony.language
        if source != "answer":
            kind = source.partition("@")[0]
            latest = testimony.latest(kind)
            language = latest.language if latest is not None else language
        flags = [f.to_dict() for f in find_flags(span, facilities(engine, case))]
        body: dict[str, Any] = {
            "testimony_id": testimony_id,
            "source": source,
            "question": question if source == "answer" else None,
            "start": start,
            "end": end,
            "text": span,
            "language": language,
            "questionnaire": testimony.questionnaire,
            "flags": flags,
            "proposed_by": actor.name,
            "at": now_iso(),
            "review": None,
        }
        sealed = case.seal_json(body, *_quote_context(quote_id))
        conn.execute(
            quote_table.insert().values(
                id=quote_id,
                case_id=case.case_id,
                testimony_id=testimony_id,
                created_day=day_now(),
                status="pending",
                body_enc=sealed,
            )
        )
        custody.append(
            conn,
            case,
            actor,
            "claim",
            target=quote_id,
            refs={INTAKE_ROWS: {quote_id: sha256_hex(sealed)}},
            details={"kind": "quote", "testimony": testimony_id, "flags": len(flags)},
        )
    return _to_quote(quote_id, testimony_id, "pending", body)


def _load_quote(engine: Engine, case: CaseKeyring, quote_id: str) -> tuple[Any, dict[str, Any]]:
    with engine.connect() as conn:
        row = conn.execute(
            select(quote_table).where(
                quote_table.c.id == quote_id, quote_table.c.case_id == case.case_id
            )
        ).first()
    if row is None:
        raise NotFoundError(f"no quote {quote_id!r} in this case")
    return row, case.open_json(row.body_enc, *_quote_context(quote_id))


def get_quote(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    quote_id: str,
) -> Quote:
    """A quote with its flags and review (members with a second factor)."""
    require_factor(actor.user, factor)
    row, body = _load_quote(engine, case, quote_id)
    return _to_quote(quote_id, row.testimony_id, row.status, body)


def review_quote(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    quote_id: str,
    *,
    redacted: str,
    keep: dict[str, str] | None = None,
) -> Quote:
    """Approve a quote's redacted text once nothing flagged is left by accident.

    Args:
        engine: the database.
        actor: the reviewer (a member).
        case: the opened case.
        factor: the reviewer's second factor.
        quote_id: the quote.
        redacted: the text as it may be published (cuts marked e.g. ``[…]``).
        keep: flags deliberately left in the redacted text, ``"kind:text" -> reason``.

    Raises:
        TidetraceError: flagged spans remain that were not kept with a reason (each named).
    """
    require_factor(actor.user, factor)
    keep = {k: v.strip() for k, v in (keep or {}).items()}
    clean = redacted.strip()
    if not clean or len(clean) > MAX_QUOTE:
        raise TidetraceError(f"the redacted quote is 1-{MAX_QUOTE} characters")
    row, body = _load_quote(engine, case, quote_id)
    remaining = find_flags(clean, facilities(engine, case))
    unexplained = sorted({f.key for f in remaining if not keep.get(f.key)})
    if unexplained:
        raise TidetraceError(
            "still flagged in the redacted text — cut them, or keep each with a reason: "
            + ", ".join(unexplained)
        )
    # The original's flagged names and places must not survive under another flag kind.
    for flag in body["flags"]:
        if flag["kind"] in ("name", "place") and flag["text"] in clean:
            key = f"{flag['kind']}:{flag['text']}"
            if not keep.get(key):
                raise TidetraceError(f"{key} from the original is still in the redacted text")
    body["review"] = {
        "reviewer": actor.name,
        "at": now_iso(),
        "redacted": clean,
        "kept": {k: v for k, v in keep.items() if v},
    }
    sealed = case.seal_json(body, *_quote_context(quote_id))
    with engine.begin() as conn:
        conn.execute(
            update(quote_table)
            .where(quote_table.c.id == quote_id)
            .values(status="approved", body_enc=sealed)
        )
        custody.append(
            conn,
            case,
            actor,
            "redaction",
            target=quote_id,
            refs={INTAKE_ROWS: {quote_id: sha256_hex(sealed)}},
            details={"kind": "quote review", "kept": sorted(body["review"]["kept"])},
        )
    return _to_quote(quote_id, row.testimony_id, "approved", body)


def export_quote(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    factor: SecondFactor | None,
    quote_id: str,
) -> dict[str, Any]:
    """The publishable form of an approved quote; an export entry on the custody log.

    Returns:
        ``{"quote", "language", "question", "questionnaire", "reviewed"}`` — no codename, no
        testimony id, no date.

    Raises:
        RedactionPending: the quote has not passed its redaction review.
    """
    require_factor(actor.user, factor)
    row, body = _load_quote(engine, case, quote_id)
    review = body.get("review")
    if row.status != "approved" or not review:
        raise RedactionPending(
            "this quote has not passed its redaction review: it cannot be exported"
        )
    questionnaire = get_questionnaire(body["questionnaire"])
    question = body.get("question")
    asked = questionnaire.question(question).ask("en") if question else None
    with engine.begin() as conn:
        custody.append(
            conn,
            case,
            actor,
            "export",
            target=quote_id,
            details={"kind": "quote", "text_sha256": sha256_hex(review["redacted"].encode())},
        )
    return {
        "quote": review["redacted"],
        "language": body["language"],
        "question": asked,
        "questionnaire": questionnaire.ref,
        "reviewed": True,
    }


def list_quotes(engine: Engine, case: CaseKeyring) -> list[tuple[str, str, str]]:
    """(quote id, testimony id, status) of a case's quotes."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(quote_table.c.id, quote_table.c.testimony_id, quote_table.c.status).where(
                quote_table.c.case_id == case.case_id
            )
        ).all()
    return [(r.id, r.testimony_id, r.status) for r in rows]
