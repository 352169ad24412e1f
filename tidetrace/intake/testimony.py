"""Testimonies: sealed before they touch the disk, read only by case members, every read logged.

A submission (answers to a questionnaire version, and/or photographed pages) gets a
random codename and its own key; the answers, consent record and photo details are sealed
under that key, the photos are stripped of metadata in RAM and both copies stored as
encrypted blobs, and the key is wrapped to the case's intake key (see ``sealing``). So a
field user can submit without being able to read anything, and nothing readable is ever
written. There is no field for a name, phone number or address, and the consent record is
required.

Every read — answers, a photo, a transcription — is a signed entry on the case's custody
log (the vault's), and needs a passed second factor (``twofactor``).
"""

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from tidetrace.auth.roles import Role
from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.blobs import BlobRef, BlobStore
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.keys import UnlockedUser, public_keys
from tidetrace.workspace import Workspace

from . import media
from .access import check_submitter
from .codenames import is_codename, new_codename
from .questionnaire import LANGUAGES, check_form_code, get_questionnaire, vocabulary
from .sealing import (
    current_public,
    ensure_intake_key,
    item_keyring,
    new_item_key,
    open_private,
    seal_box,
    unwrap_key,
    wrap_key,
)
from .tables import photo_table, receipt_table, testimony_table, text_table
from .twofactor import SecondFactor, require_factor

__all__ = [
    "Consent",
    "Photo",
    "Receipt",
    "Submission",
    "Testimony",
    "TestimonyRow",
    "TextVersion",
    "add_text",
    "blob_store",
    "list_receipts",
    "list_testimonies",
    "log_pending",
    "parse_consent",
    "read_photo",
    "read_testimony",
    "submit",
]

MAX_ANSWER = 20_000
MAX_PHOTOS = 20
TEXT_KINDS = ("transcription", "translation")
CONSENT_METHODS = ("oral", "written", "paper-form")
# Custody refs under keys of our own: the vault's verify checks "rows"/"blobs" against its
# own tables and store; ours are checked by ``intake.verify`` (both without a key).
INTAKE_ROWS = "intake_rows"
INTAKE_BLOBS = "intake_blobs"
_YES = {"yes", "y", "true", "1", "on", "agreed"}
_NO = {"no", "n", "false", "0", "off", "refused"}


def blob_store(ws: Workspace) -> BlobStore:
    """Where testimony photos live: the vault's blob format, one directory per testimony."""
    return BlobStore(ws.blob_dir / "intake", ws.tmp_dir)


@dataclass(frozen=True)
class Consent:
    """What the person agreed to. Every item must be answered, yes or no.

    Attributes:
        publication: answers may be counted (k-suppressed) in published reports.
        quotation: words may be quoted after a redaction review.
        authorities: answers may be shared, without a name, with customs or courts.
        method: how consent was given (``oral``, ``written``, ``paper-form``).
    """

    publication: bool
    quotation: bool
    authorities: bool
    method: str = "oral"


def _yes_no(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise TidetraceError(f"consent {key}: answer yes or no, not {value!r}")


def parse_consent(values: dict[str, Any] | None) -> Consent:
    """The structured consent record from a mapping; every item is required.

    Raises:
        TidetraceError: naming each missing or unclear item (nothing is assumed).
    """
    if not values:
        raise TidetraceError(
            "a testimony cannot be saved without its consent record: answer publication, "
            "quotation and authorities with yes or no"
        )
    problems = []
    parsed: dict[str, bool] = {}
    for key in vocabulary().consent:
        if key not in values or values[key] in (None, ""):
            problems.append(f"consent {key} is not answered")
            continue
        try:
            parsed[key] = _yes_no(key, values[key])
        except TidetraceError as exc:
            problems.append(exc.detail)
    unknown = set(values) - set(vocabulary().consent) - {"method"}
    if unknown:
        problems.append(f"unknown consent items: {', '.join(sorted(unknown))}")
    method = str(values.get("method") or "oral")
    if method not in CONSENT_METHODS:
        problems.append(f"consent method is one of {', '.join(CONSENT_METHODS)}")
    if problems:
        raise TidetraceError("; ".join(problems))
    return Consent(method=method, **parsed)


@dataclass(frozen=True)
class Photo:
    """A photographed page as submitted (in memory only)."""

    data: bytes = field(repr=False)
    name: str = field(repr=False, default="page")


@dataclass
class Submission:
    """What an intake form, the API or the CLI hands over.

    Attributes:
        questionnaire: ``id`` or ``id@version``.
        language: language of the answers (``ko``, ``zh``, ``en``).
        answers: question id -> answer text (may be empty when pages are photographed).
        consent: the consent record (required).
        photos: photographed pages, in page order.
        via: the codename of the intermediary chain it came through, if any.
        codename: an existing codename, for a follow-up with the same person.
        form_code: the code printed on the paper form.
        ocr: make a draft transcription of the photos (tesseract).
        transcript: a text to keep as transcription version 1 (e.g. a promoted tip).
    """

    questionnaire: str | None
    language: str
    answers: dict[str, str]
    consent: Consent
    photos: list[Photo] = field(default_factory=list)
    via: str | None = None
    codename: str | None = None
    form_code: str | None = None
    ocr: bool = False
    transcript: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the submitter is told: enough to refer to it, nothing of its content."""

    testimony_id: str
    codename: str
    case_id: str
    day: str
    photos: int
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TestimonyRow:
    """A testimony as a case's list shows it (no content)."""

    id: str
    codename: str
    day: str
    logged: bool


@dataclass(frozen=True)
class TextVersion:
    """One version of a transcription or translation."""

    kind: str
    version: int
    language: str
    text: str
    author: str
    at: str
    source: str


@dataclass(frozen=True)
class Testimony:
    """An opened testimony (members with a second factor only)."""

    id: str
    case_id: str
    codename: str
    day: str
    questionnaire: str
    language: str
    answers: dict[str, str]
    consent: Consent
    via: str | None
    submitted_by: str
    form_code: str | None
    received_at: str
    photos: list[dict[str, Any]]
    texts: list[TextVersion]

    def latest(self, kind: str) -> TextVersion | None:
        """The newest transcription or translation."""
        found = [t for t in self.texts if t.kind == kind]
        return found[-1] if found else None

    def source_text(self, source: str, question: str | None) -> str:
        """The text a span refers to: an answer, or a transcription/translation version.

        Args:
            source: ``answer``, ``transcription``, ``translation`` or ``KIND@VERSION``.
            question: the question id (answers only).

        Raises:
            TidetraceError: no such answer or version.
        """
        if source == "answer":
            if question is None or question not in self.answers:
                raise TidetraceError(f"no answer to question {question!r} in this testimony")
            return self.answers[question]
        kind, _, version = source.partition("@")
        versions = [t for t in self.texts if t.kind == kind]
        if version:
            versions = [t for t in versions if str(t.version) == version]
        if not versions:
            raise TidetraceError(f"no {source} of this testimony")
        return versions[-1].text


def _clean_answers(
    answers: dict[str, str], questionnaire: str | None
) -> tuple[str, dict[str, str]]:
    q = get_questionnaire(questionnaire)
    known = {question.id for question in q.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise TidetraceError(f"{q.ref} has no question {', '.join(unknown)}")
    clean = {}
    for key, value in answers.items():
        text = str(value).replace("\x00", "").strip()
        if len(text) > MAX_ANSWER:
            raise TidetraceError(f"answer {key} is longer than {MAX_ANSWER} characters")
        if text:
            clean[key] = text
    return q.ref, clean


def _new_codename(conn: Connection, case_id: str) -> str:
    for _ in range(20):
        name = new_codename()
        clash = conn.execute(
            select(testimony_table.c.id).where(
                testimony_table.c.case_id == case_id, testimony_table.c.codename == name
            )
        ).first()
        if clash is None:
            return name
    raise TidetraceError("could not draw a fresh codename")  # pragma: no cover


def _body_context() -> tuple[str, str]:
    return ("testimony", "body")


def _photo_context(page: int, role: str) -> tuple[str, int, str]:
    return ("photo", page, role)


def _text_context(kind: str, version: int) -> tuple[str, str, int]:
    return ("text", kind, version)


def _capture_refs(conn: Connection, testimony_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(testimony_table.c.body_enc).where(testimony_table.c.id == testimony_id)
    ).first()
    blobs = {
        r.address: r.ct_sha256
        for r in conn.execute(
            select(photo_table.c.address, photo_table.c.ct_sha256).where(
                photo_table.c.testimony_id == testimony_id
            )
        )
    }
    rows = {testimony_id: sha256_hex(bytes(row.body_enc))} if row is not None else {}
    for text_row in conn.execute(
        select(text_table.c.id, text_table.c.body_enc).where(
            text_table.c.testimony_id == testimony_id
        )
    ):
        rows[text_row.id] = sha256_hex(bytes(text_row.body_enc))
    return {INTAKE_ROWS: rows, INTAKE_BLOBS: blobs}


def _log_capture(
    conn: Connection, keyring: CaseKeyring, actor: UnlockedUser, row: Any, photos: int
) -> None:
    custody.append(
        conn,
        keyring,
        actor,
        "capture",
        target=row.id,
        refs=_capture_refs(conn, row.id),
        details={
            "kind": "testimony",
            "codename": row.codename,
            "received_day": row.created_day,
            "photos": photos,
        },
    )
    conn.execute(update(testimony_table).where(testimony_table.c.id == row.id).values(logged=True))


def submit(
    ws: Workspace,
    submitter: User,
    case_id: str,
    submission: Submission,
    *,
    max_photo_bytes: int,
    member: tuple[UnlockedUser, CaseKeyring] | None = None,
    transcript_source: str = "person",
) -> Receipt:
    """Seal and store a testimony.

    Args:
        ws: the workspace.
        submitter: who submits: a case member, or a field user assigned to the case.
        case_id: the case.
        submission: the answers, photos and consent record.
        max_photo_bytes: the largest photo accepted.
        member: a member's unlocked keys and the opened case, when the submitter is one;
            the capture then goes on the custody log at once (otherwise the first member
            to open the case's intake list logs it).
        transcript_source: what ``submission.transcript`` came from.

    Raises:
        TidetraceError: no consent, unknown question, bad language, nothing submitted,
            a photo that is not an image or too large.
        NotFoundError: not a case the submitter may submit to.
    """
    if submission.language not in LANGUAGES:
        raise TidetraceError(f"language is one of {', '.join(LANGUAGES)}")
    if not isinstance(submission.consent, Consent):
        raise TidetraceError("a testimony cannot be saved without its consent record")
    ref, answers = _clean_answers(submission.answers, submission.questionnaire)
    if not answers and not submission.photos and not submission.transcript:
        raise TidetraceError("nothing to save: no answers and no photographed pages")
    if len(submission.photos) > MAX_PHOTOS:
        raise TidetraceError(f"at most {MAX_PHOTOS} photographed pages per testimony")
    form_code = check_form_code(submission.form_code) if submission.form_code else None
    via = (submission.via or "").strip().lower() or None
    if via is not None and not is_codename(via):
        raise TidetraceError("--via takes a codename (e.g. amber-heron-4821), never a name")
    with ws.engine.begin() as conn:
        check_submitter(conn, case_id, submitter)
        if member is not None:
            ensure_intake_key(conn, member[1])
        key_info = current_public(conn, case_id)
        if submission.codename:
            codename = submission.codename.strip().lower()
            known = conn.execute(
                select(testimony_table.c.id).where(
                    testimony_table.c.case_id == case_id, testimony_table.c.codename == codename
                )
            ).first()
            if known is None:
                raise TidetraceError(f"no earlier testimony with codename {codename!r}")
        else:
            codename = _new_codename(conn, case_id)
    # Strip every photo before anything is written: a refused photo leaves no trace.
    warnings: list[str] = []
    cleaned = [media.strip_photo(ws, p.data, max_photo_bytes) for p in submission.photos]
    drafts: list[str] = []
    if submission.ocr:
        for clean_page in cleaned:
            try:
                drafts.append(
                    media.ocr_image(clean_page.working or clean_page.original, submission.language)
                )
            except media.MediaError as exc:
                warnings.append(f"no OCR draft: {exc.detail}")
                drafts = []
                break
    testimony_id = new_id("tm")
    item_key = new_item_key()
    keyring = item_keyring(testimony_id, item_key)
    store = blob_store(ws)
    stored: list[tuple[int, str, BlobRef, dict[str, Any]]] = []
    photo_meta: list[dict[str, Any]] = []
    for page, (photo, clean) in enumerate(zip(submission.photos, cleaned, strict=True), start=1):
        original = store.put_bytes(keyring, clean.original)
        info = {
            "page": page,
            "name": photo.name[:255],
            "mime": clean.ftype.mime,
            "sha256": original.sha256,
            "size": original.size,
        }
        stored.append((page, "original", original, info))
        if clean.working is not None:
            working = store.put_bytes(keyring, clean.working)
            stored.append(
                (
                    page,
                    "working",
                    working,
                    {
                        "page": page,
                        "mime": clean.working_mime,
                        "sha256": working.sha256,
                        "derived_from": original.sha256,
                        "tool": clean.tool,
                        "removed": clean.removed,
                    },
                )
            )
        photo_meta.append({**info, "removed": clean.removed, "tool": clean.tool})
    body = {
        "questionnaire": ref,
        "language": submission.language,
        "answers": answers,
        "consent": asdict(submission.consent),
        "via": via,
        "submitted_by": submitter.name,
        "form_code": form_code,
        "received_at": now_iso(),
        "photos": photo_meta,
    }
    today = day_now()
    with ws.engine.begin() as conn:
        conn.execute(
            testimony_table.insert().values(
                id=testimony_id,
                case_id=case_id,
                codename=codename,
                created_day=today,
                key_version=key_info.version,
                wrapped_key=wrap_key(
                    item_key, key_info.public, "testimony", testimony_id, key_info.version
                ),
                body_enc=keyring.seal_json(body, *_body_context()),
                logged=False,
            )
        )
        for page, role, ref_, meta in stored:
            conn.execute(
                photo_table.insert().values(
                    testimony_id=testimony_id,
                    page=page,
                    role=role,
                    address=ref_.address,
                    ct_sha256=ref_.ct_sha256,
                    ct_size=ref_.ct_size,
                    meta_enc=keyring.seal_json(meta, *_photo_context(page, role)),
                )
            )
        if submission.transcript:
            _insert_text(
                conn,
                keyring,
                testimony_id,
                "transcription",
                submission.language,
                submission.transcript.strip(),
                author=submitter.name,
                source=transcript_source,
            )
        elif drafts:
            _insert_text(
                conn,
                keyring,
                testimony_id,
                "transcription",
                submission.language,
                "\n\n".join(drafts),
                author=media.tesseract_version(),
                source="ocr",
            )
        # The receipt is sealed to the submitter's own public key: only they can list it.
        mine = public_keys(conn, [submitter.id])
        if mine:
            receipt_body = {
                "testimony_id": testimony_id,
                "codename": codename,
                "case_id": case_id,
                "day": today,
                "photos": len(submission.photos),
            }
            conn.execute(
                receipt_table.insert().values(
                    id=new_id("rc"),
                    user_id=submitter.id,
                    created_day=today,
                    sealed=seal_box(json.dumps(receipt_body).encode(), mine[0].box_public),
                )
            )
        if member is not None:
            row = conn.execute(
                select(testimony_table).where(testimony_table.c.id == testimony_id)
            ).one()
            _log_capture(conn, member[1], member[0], row, len(submission.photos))
    if drafts:
        warnings.append("OCR draft saved as transcription version 1: a person must correct it")
    return Receipt(testimony_id, codename, case_id, today, len(submission.photos), warnings)


def list_receipts(engine: Engine, unlocked: UnlockedUser) -> list[dict[str, Any]]:
    """The submitter's own receipts, newest first (opened with their private key)."""
    from .sealing import open_box

    with engine.connect() as conn:
        rows = conn.execute(
            select(receipt_table.c.sealed).where(receipt_table.c.user_id == unlocked.user.id)
        ).all()
    out = [json.loads(open_box(unlocked.box_key, bytes(r.sealed))) for r in rows]
    return sorted(out, key=lambda r: (r["day"], r["codename"]), reverse=True)


def log_pending(engine: Engine, actor: UnlockedUser, keyring: CaseKeyring) -> int:
    """Put submissions made by field users on the custody log; returns how many.

    A field user cannot sign a custody entry that a member can open (the payload is sealed
    under the case key), so the first member to open the case's intake does it; the entry
    vouches for the ciphertext hashes stored at submission.
    """
    count = 0
    with engine.begin() as conn:
        ensure_intake_key(conn, keyring)
        rows = conn.execute(
            select(testimony_table)
            .where(
                testimony_table.c.case_id == keyring.case_id, testimony_table.c.logged.is_(False)
            )
            .order_by(testimony_table.c.created_day, testimony_table.c.id)
        ).all()
        for row in rows:
            photos = conn.execute(
                select(func.count(func.distinct(photo_table.c.page))).where(
                    photo_table.c.testimony_id == row.id
                )
            ).scalar_one()
            _log_capture(conn, keyring, actor, row, int(photos))
            count += 1
    return count


def list_testimonies(
    engine: Engine, actor: UnlockedUser, keyring: CaseKeyring
) -> list[TestimonyRow]:
    """A case's testimonies (codename and day only), after logging pending captures."""
    log_pending(engine, actor, keyring)
    with engine.connect() as conn:
        rows = conn.execute(
            select(testimony_table)
            .where(testimony_table.c.case_id == keyring.case_id)
            .order_by(testimony_table.c.created_day.desc(), testimony_table.c.codename)
        ).all()
    return [TestimonyRow(r.id, r.codename, r.created_day, bool(r.logged)) for r in rows]


def _open_keyring(
    conn: Connection, case: CaseKeyring, testimony_id: str
) -> tuple[Any, CaseKeyring]:
    row = conn.execute(
        select(testimony_table).where(
            testimony_table.c.id == testimony_id, testimony_table.c.case_id == case.case_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no testimony {testimony_id!r} in this case")
    private = open_private(conn, case, row.key_version)
    item_key = unwrap_key(private, bytes(row.wrapped_key), "testimony", row.id, row.key_version)
    return row, item_keyring(row.id, item_key)


def testimony_case(engine: Engine, testimony_id: str) -> str:
    """The case a testimony belongs to (callers then check membership).

    Raises:
        NotFoundError: no such testimony.
    """
    with engine.connect() as conn:
        case_id = conn.execute(
            select(testimony_table.c.case_id).where(testimony_table.c.id == testimony_id)
        ).scalar_one_or_none()
    if case_id is None:
        raise NotFoundError(f"no testimony {testimony_id!r}")
    return str(case_id)


def _texts(conn: Connection, keyring: CaseKeyring, testimony_id: str) -> list[TextVersion]:
    rows = conn.execute(
        select(text_table)
        .where(text_table.c.testimony_id == testimony_id)
        .order_by(text_table.c.kind, text_table.c.version)
    ).all()
    out = []
    for r in rows:
        data = keyring.open_json(r.body_enc, *_text_context(r.kind, r.version))
        out.append(
            TextVersion(
                r.kind,
                r.version,
                data["language"],
                data["text"],
                data["author"],
                data["at"],
                data["source"],
            )
        )
    return out


def open_testimony(conn: Connection, case: CaseKeyring, testimony_id: str) -> Testimony:
    """Decrypt a testimony without logging (for callers that log the read themselves)."""
    row, keyring = _open_keyring(conn, case, testimony_id)
    body = keyring.open_json(row.body_enc, *_body_context())
    return Testimony(
        id=row.id,
        case_id=row.case_id,
        codename=row.codename,
        day=row.created_day,
        questionnaire=body["questionnaire"],
        language=body["language"],
        answers=body["answers"],
        consent=Consent(**body["consent"]),
        via=body.get("via"),
        submitted_by=body["submitted_by"],
        form_code=body.get("form_code"),
        received_at=body["received_at"],
        photos=body.get("photos", []),
        texts=_texts(conn, keyring, row.id),
    )


def read_testimony(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    testimony_id: str,
    factor: SecondFactor | None,
    purpose: str = "read",
) -> Testimony:
    """Open a testimony for a member with a second factor; the read is a custody entry.

    Raises:
        SecondFactorRequired: no passed TOTP check.
        NotFoundError: not a testimony of this case.
    """
    require_factor(actor.user, factor)
    log_pending(engine, actor, case)
    with engine.begin() as conn:
        testimony = open_testimony(conn, case, testimony_id)
        custody.append(
            conn,
            case,
            actor,
            "view",
            target=testimony_id,
            details={"kind": "testimony", "what": "answers and texts", "purpose": purpose},
        )
    return testimony


def read_photo(
    ws: Workspace,
    actor: UnlockedUser,
    case: CaseKeyring,
    testimony_id: str,
    page: int,
    factor: SecondFactor | None,
    role: str = "working",
) -> tuple[bytes, str]:
    """One photographed page (the metadata-free copy unless ``role="original"``); logged.

    Returns:
        (bytes, media type).
    """
    require_factor(actor.user, factor)
    if role not in ("working", "original"):
        raise TidetraceError("a photo is the working copy or the original")
    log_pending(ws.engine, actor, case)
    with ws.engine.begin() as conn:
        _row, keyring = _open_keyring(conn, case, testimony_id)
        photo = conn.execute(
            select(photo_table).where(
                photo_table.c.testimony_id == testimony_id,
                photo_table.c.page == page,
                photo_table.c.role == role,
            )
        ).first()
        if photo is None:
            raise NotFoundError(f"no {role} copy of page {page}")
        meta = keyring.open_json(photo.meta_enc, *_photo_context(page, role))
        data = blob_store(ws).read_all(keyring, photo.address)
        custody.append(
            conn,
            case,
            actor,
            "view",
            target=testimony_id,
            refs={INTAKE_BLOBS: {photo.address: photo.ct_sha256}},
            details={"kind": "testimony", "what": f"photo page {page} ({role})"},
        )
    return data, str(meta["mime"])


def _insert_text(
    conn: Connection,
    keyring: CaseKeyring,
    testimony_id: str,
    kind: str,
    language: str,
    text: str,
    *,
    author: str,
    source: str,
) -> tuple[int, str, bytes]:
    version = (
        conn.execute(
            select(func.max(text_table.c.version)).where(
                text_table.c.testimony_id == testimony_id, text_table.c.kind == kind
            )
        ).scalar_one()
        or 0
    ) + 1
    body = {"language": language, "text": text, "author": author, "at": now_iso(), "source": source}
    text_id = new_id("tx")
    sealed = keyring.seal_json(body, *_text_context(kind, version))
    conn.execute(
        text_table.insert().values(
            id=text_id,
            testimony_id=testimony_id,
            kind=kind,
            version=version,
            created_day=day_now(),
            body_enc=sealed,
        )
    )
    return int(version), text_id, sealed


def add_text(
    engine: Engine,
    actor: UnlockedUser,
    case: CaseKeyring,
    testimony_id: str,
    kind: str,
    text: str,
    language: str,
    factor: SecondFactor | None,
) -> int:
    """Save a corrected transcription or a translation as a new version; returns it.

    Earlier versions stay (author and time in each); the change is a custody entry.
    """
    require_factor(actor.user, factor)
    if kind not in TEXT_KINDS:
        raise TidetraceError(f"a text is a {' or a '.join(TEXT_KINDS)}")
    if language not in LANGUAGES:
        raise TidetraceError(f"language is one of {', '.join(LANGUAGES)}")
    clean = text.replace("\x00", "").strip()
    if not clean or len(clean) > 20 * MAX_ANSWER:
        raise TidetraceError("a text is 1 to 400,000 characters")
    log_pending(engine, actor, case)
    with engine.begin() as conn:
        _row, keyring = _open_keyring(conn, case, testimony_id)
        version, text_id, sealed = _insert_text(
            conn, keyring, testimony_id, kind, language, clean, author=actor.name, source="person"
        )
        custody.append(
            conn,
            case,
            actor,
            "amend",
            target=testimony_id,
            refs={INTAKE_ROWS: {text_id: sha256_hex(sealed)}},
            details={
                "kind": "testimony",
                "what": f"{kind} version {version}",
                "language": language,
            },
        )
    return version


def submitter_role_ok(user: User) -> bool:
    """Whether the role can submit at all (members and field users)."""
    return user.role in (Role.ADMIN, Role.INVESTIGATOR, Role.FIELD)
