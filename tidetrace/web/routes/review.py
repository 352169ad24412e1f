"""The review page: investigators judge queued pairs, one at a time or in bulk.

``GET /review`` shows the current pair side by side — every value with its dataset, origin
and dates — with the explanation of its score and the rest of the queue; keys y/n/u/s answer
(``/static/review.js``). ``POST /review/judge`` records one answer, ``POST /review/bulk`` the
same answer for the ticked pairs; ``GET /api/review`` is the JSON twin of the page.

Judging changes which records are one entity, so every route admits investigators and
admins only (``WRITE``), and the POSTs carry the session's CSRF token like every form.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from tidetrace.exc import TidetraceError
from tidetrace.resolve.judgements import Judgement
from tidetrace.resolve.review import (
    KEYS,
    MAX_BULK,
    Candidate,
    ReviewItem,
    candidates,
    judge,
    judge_many,
    review_item,
)
from tidetrace.web.context import doc
from tidetrace.web.deps import WRITE, ActorDep, WorkspaceDep
from tidetrace.web.models import ErrorResponse
from tidetrace.web.render import render_page

__all__ = ["QueueRow", "ReviewContext", "router"]

router = APIRouter()

PAGE_SIZE = 50
IdForm = Annotated[str, Form(min_length=1, max_length=255)]
JudgementForm = Annotated[str, Form(pattern="^(positive|negative|unsure)$")]
NoteForm = Annotated[str, Form(max_length=2000)]
OffsetQuery = Annotated[
    int, Query(ge=0, le=1_000_000, description="Open pairs to skip (the skip key adds one).")
]
# What each answer is called on the page and in messages.
LABELS = {
    Judgement.POSITIVE: "same entity",
    Judgement.NEGATIVE: "different",
    Judgement.UNSURE: "unsure",
}


@dataclass
class QueueRow:
    """One open pair in the queue list."""

    key: str = field(metadata=doc("The pair as left|right (the bulk form's value)."))
    left: str = field(metadata=doc("Left record id."))
    right: str = field(metadata=doc("Right record id."))
    left_name: str = field(metadata=doc("The left name the score used."))
    right_name: str = field(metadata=doc("The right name the score used."))
    score: float = field(metadata=doc("Score, 0-1."))


@dataclass
class ReviewContext:
    """What the review page shows; ``GET /api/review`` returns the same data."""

    open_count: int = field(metadata=doc("Open pairs in the queue."))
    offset: int = field(metadata=doc("Open pairs skipped before the current one."))
    item: ReviewItem | None = field(
        metadata=doc("The current pair: both entities with provenance, score, explanation.")
    )
    queue: list[QueueRow] = field(metadata=doc("Open pairs from the current one on."))
    message: str = field(metadata=doc("What the last action did (after a redirect)."))
    problems: list[str] = field(metadata=doc("Pairs a bulk action could not judge, and why."))
    keys: dict[str, str] = field(metadata=doc("Answer per key, as the page and the CLI use."))
    max_bulk: int = field(metadata=doc("Most pairs one bulk action judges."))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the API response)."""
        return {
            "open_count": self.open_count,
            "offset": self.offset,
            "item": self.item.to_dict() if self.item is not None else None,
            "queue": [row.__dict__ for row in self.queue],
        }


def _row(c: Candidate) -> QueueRow:
    return QueueRow(
        key=c.key,
        left=c.left,
        right=c.right,
        left_name=str(c.explanation.get("left_name", "")),
        right_name=str(c.explanation.get("right_name", "")),
        score=c.score,
    )


def build_review(
    ws: Any, offset: int = 0, message: str = "", problems: list[str] | None = None
) -> ReviewContext:
    """Fill the review page's context."""
    page, total = candidates(ws.engine, limit=PAGE_SIZE, offset=offset)
    if not page and offset > 0:
        # Skipped past the end: start again from the top.
        offset = 0
        page, total = candidates(ws.engine, limit=PAGE_SIZE)
    item = review_item(ws.engine, page[0]) if page else None
    return ReviewContext(
        open_count=total,
        offset=offset,
        item=item,
        queue=[_row(c) for c in page],
        message=message,
        problems=problems or [],
        keys={k: (LABELS[v] if v is not None else "skip") for k, v in KEYS.items()},
        max_bulk=MAX_BULK,
    )


@router.get(
    "/review",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def review_page(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    offset: OffsetQuery = 0,
    done: Annotated[str, Query(max_length=200)] = "",
) -> HTMLResponse:
    """The current pair side by side, its explanation, and the queue."""
    ctx = build_review(ws, offset, message=done)
    return render_page(request, "review.html", ctx, title="Review matches", actor=actor)


@router.post("/review/judge", include_in_schema=False, dependencies=[Depends(WRITE)])
def review_judge(
    ws: WorkspaceDep,
    actor: ActorDep,
    left: IdForm,
    right: IdForm,
    judgement: JudgementForm,
    note: NoteForm = "",
    offset: Annotated[int, Form(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Record one answer, then show the next pair."""
    assert actor.user is not None  # WRITE admits logged-in users only
    value = Judgement(judgement)
    judge(ws.engine, left, right, value, actor.user.name, note.strip() or None)
    done = f"{left} / {right}: {LABELS[value]}"
    query = urlencode({"offset": offset, "done": done[:200]})
    return RedirectResponse(f"/review?{query}", status_code=303)


@router.post(
    "/review/bulk",
    response_class=HTMLResponse,
    include_in_schema=False,
    dependencies=[Depends(WRITE)],
)
def review_bulk(
    request: Request,
    ws: WorkspaceDep,
    actor: ActorDep,
    judgement: JudgementForm,
    pair: Annotated[list[str], Form(max_length=MAX_BULK)] = [],  # noqa: B006 - FastAPI form default
    note: NoteForm = "",
) -> HTMLResponse:
    """Record the same answer for every ticked pair; show what was done and what was not."""
    assert actor.user is not None
    pairs: list[tuple[str, str]] = []
    problems: list[str] = []
    for value in pair:
        left, sep, right = value.partition("|")
        if not sep or not left or not right or len(value) > 511:
            problems.append(f"{value[:80]!r}: not a pair")
            continue
        pairs.append((left, right))
    if not pairs and not problems:
        raise TidetraceError("tick at least one pair")
    verdict = Judgement(judgement)
    made, failed = judge_many(ws.engine, pairs, verdict, actor.user.name, note.strip() or None)
    message = f"{len(made)} pair(s) marked {LABELS[verdict]}"
    ctx = build_review(ws, 0, message=message, problems=problems + failed)
    return render_page(request, "review.html", ctx, title="Review matches", actor=actor)


class ReviewResponse(BaseModel):
    """The review queue and its current pair."""

    open_count: int = Field(description="Open pairs in the queue.")
    offset: int = Field(description="Open pairs skipped before the current one.")
    item: dict[str, Any] | None = Field(
        description="The current pair: both entities with provenance, score and explanation."
    )
    queue: list[dict[str, Any]] = Field(description="Open pairs from the current one on.")


@router.get(
    "/api/review",
    summary="Review queue",
    response_model=ReviewResponse,
    tags=["resolution"],
    dependencies=[Depends(WRITE)],
    responses={
        401: {"model": ErrorResponse, "description": "Not logged in."},
        403: {"model": ErrorResponse, "description": "Not an investigator."},
    },
)
def api_review(ws: WorkspaceDep, offset: OffsetQuery = 0) -> ReviewResponse:
    """Open pairs, best score first, with the current one's entities and explanation."""
    return ReviewResponse.model_validate(build_review(ws, offset).to_dict())
