"""The anonymous tip line: sealed on arrival (or in the browser), read only by its recipients.

Who can decrypt what:

- The tip line is backed by a vault case whose members are the **recipients**
  (investigators, who read with a second factor). The tip line's key pair is that case's
  intake key pair (``sealing``): its public half is on the ``/report`` page, its private
  half is sealed under the case key, which the vault wraps to each recipient. Adding or
  removing a recipient is adding or removing a case member; removal rotates the key.
- Every message is an X25519 **sealed box** to that public key: made in the browser by the
  vendored libsodium when JavaScript runs (the server never sees the plaintext), or by the
  server on receipt when it does not (the plaintext exists only in memory, files stripped
  of metadata in RAM first). Both give the same bytes to store.
- The submitter gets a **receipt** (100 random bits, shown once, never stored). The server
  keeps a hash of it to find the tip, and the public half of a key pair derived from it:
  replies are sealed to that key as well, so only someone holding the receipt can read
  them — and the receipt does not open what the submitter sent.

Nothing here stores or logs an IP address, a User-Agent or a time finer than the day, and
ids are random. Flooding is throttled for the whole line (a token bucket and a daily cap),
never per person.
"""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import Connection, Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from tidetrace.auth.users import User
from tidetrace.exc import NotFoundError, PermissionDenied, TidetraceError
from tidetrace.store import audit
from tidetrace.vault import custody
from tidetrace.vault.cases import (
    CaseKeyring,
    add_member,
    case_members,
    create_case,
    open_case,
    remove_member,
)
from tidetrace.vault.crypto import canonical_json, day_now, derive_subkey, new_id, now_iso
from tidetrace.vault.keys import UnlockedUser
from tidetrace.workspace import Workspace

from . import media
from .questionnaire import LANGUAGES
from .sealing import (
    IntakeKey,
    current_public,
    ensure_intake_key,
    open_box,
    open_private,
    seal_box,
)
from .tables import intake_key_table, spent_token_table, tip_part_table, tip_table, tipline_table
from .twofactor import SecondFactor, require_factor

__all__ = [
    "GENERIC_FAILURE",
    "ReceiptFailure",
    "TipView",
    "TiplineBusy",
    "TiplineClosed",
    "add_more",
    "add_recipient",
    "configure",
    "inbox",
    "init_tipline",
    "issue_form_token",
    "promote",
    "public_key",
    "purge",
    "read_tip",
    "read_tip_file",
    "remove_recipient",
    "replies",
    "reply",
    "submit_plain",
    "submit_sealed",
]

TIPLINE_ID = "main"
DEFAULT_RETENTION_DAYS = 90
DEFAULT_DAILY_LIMIT = 500
MAX_MESSAGE = 20_000
MAX_FILES = 5
MAX_REPLY = 10_000
# Crockford base32 without I, L, O, U; 20 characters = 100 random bits.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_CHARS = 20
GENERIC_FAILURE = "Nothing was found for this receipt, or the request could not be handled."
# A sealed box adds a 32-byte ephemeral key and a 16-byte tag.
SEAL_OVERHEAD = 48
FILE_FAMILIES = ("image", "pdf")


class TiplineClosed(TidetraceError):
    """The tip line has not been set up (``tidetrace tipline init``)."""

    STATUS = 503


class TiplineBusy(TidetraceError):
    """Too many tips right now, for the whole line (nobody is tracked to single one out)."""

    STATUS = 503


class ReceiptFailure(TidetraceError):
    """Any failure on a receipt: the same words and status whatever went wrong."""

    STATUS = 404

    def __init__(self) -> None:
        super().__init__(GENERIC_FAILURE)


class FormReplayed(PermissionDenied):
    """A tip form was sent twice, or its one-time token is not ours."""


# --- Throttling (for the whole line, never per person) ------------------------------------


class _Bucket:
    """A token bucket shared by every visitor: ``capacity`` requests per ``period`` seconds."""

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity = capacity
        self.period = period
        self.tokens = float(capacity)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(
                self.capacity, self.tokens + (now - self.stamp) * self.capacity / self.period
            )
            self.stamp = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True

    def reset(self) -> None:
        """Fill the bucket (tests)."""
        with self.lock:
            self.tokens = float(self.capacity)


SUBMISSIONS = _Bucket(60, 60.0)
LOOKUPS = _Bucket(240, 60.0)


# --- Set-up and recipients ----------------------------------------------------------------


@dataclass(frozen=True)
class TiplineInfo:
    """The tip line's settings and current public key."""

    case_id: str
    retention_days: int
    daily_limit: int
    key: IntakeKey
    recipients: list[str]


def _row(conn: Connection) -> Any:
    return conn.execute(select(tipline_table).where(tipline_table.c.id == TIPLINE_ID)).first()


def tipline_case_id(engine: Engine) -> str:
    """The vault case backing the tip line.

    Raises:
        TiplineClosed: not set up.
    """
    with engine.connect() as conn:
        row = _row(conn)
    if row is None:
        raise TiplineClosed("the tip line is not open")
    return str(row.case_id)


def init_tipline(
    engine: Engine,
    actor: UnlockedUser,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    daily_limit: int = DEFAULT_DAILY_LIMIT,
) -> TiplineInfo:
    """Open the tip line with ``actor`` as its first recipient.

    Raises:
        TidetraceError: it is open already.
    """
    with engine.connect() as conn:
        if _row(conn) is not None:
            raise TidetraceError("the tip line is open already")
    _check_settings(retention_days, daily_limit)
    case = create_case(engine, actor, "Tip line")
    keyring = open_case(engine, actor, case.id)
    with engine.begin() as conn:
        key = ensure_intake_key(conn, keyring)
        conn.execute(
            tipline_table.insert().values(
                id=TIPLINE_ID,
                case_id=case.id,
                retention_days=retention_days,
                daily_limit=daily_limit,
                form_secret=secrets.token_bytes(32),
                created_day=day_now(),
            )
        )
        audit.append(conn, actor.name, "tipline.init", case.id, {"retention_days": retention_days})
    return TiplineInfo(case.id, retention_days, daily_limit, key, [actor.name])


def _check_settings(retention_days: int | None, daily_limit: int | None) -> None:
    if retention_days is not None and not 1 <= retention_days <= 3650:
        raise TidetraceError("retention is 1 to 3650 days")
    if daily_limit is not None and not 1 <= daily_limit <= 100_000:
        raise TidetraceError("the daily limit is 1 to 100000 tips")


def info(engine: Engine) -> TiplineInfo:
    """The tip line's settings, recipients and public key.

    Raises:
        TiplineClosed: not set up.
    """
    with engine.connect() as conn:
        row = _row(conn)
        if row is None:
            raise TiplineClosed("the tip line is not open")
        key = current_public(conn, row.case_id)
        members = case_members(conn, row.case_id)
    return TiplineInfo(row.case_id, row.retention_days, row.daily_limit, key, members)


def configure(
    engine: Engine,
    actor: User,
    *,
    retention_days: int | None = None,
    daily_limit: int | None = None,
) -> None:
    """Change retention or the daily cap (recipients and admins)."""
    _check_settings(retention_days, daily_limit)
    values: dict[str, int] = {}
    if retention_days is not None:
        values["retention_days"] = retention_days
    if daily_limit is not None:
        values["daily_limit"] = daily_limit
    if not values:
        return
    with engine.begin() as conn:
        if _row(conn) is None:
            raise TiplineClosed("the tip line is not open")
        conn.execute(update(tipline_table).where(tipline_table.c.id == TIPLINE_ID).values(**values))
        audit.append(conn, actor.name, "tipline.configure", TIPLINE_ID, values)


def add_recipient(engine: Engine, actor: UnlockedUser, name: str) -> None:
    """Make ``name`` (an investigator or admin with keys) a recipient: a vault case member."""
    add_member(engine, actor, tipline_case_id(engine), name)


def remove_recipient(engine: Engine, actor: UnlockedUser, name: str) -> None:
    """Stop ``name`` receiving tips; the key pair is renewed for tips from now on."""
    case_id = tipline_case_id(engine)
    remove_member(engine, actor, case_id, name)
    keyring = open_case(engine, actor, case_id)
    with engine.begin() as conn:
        ensure_intake_key(conn, keyring)


def public_key(engine: Engine) -> IntakeKey:
    """The key the page seals to (and the server, when JavaScript is off).

    Raises:
        TiplineClosed: not set up.
    """
    with engine.connect() as conn:
        row = _row(conn)
        if row is None:
            raise TiplineClosed("the tip line is not open")
        return current_public(conn, row.case_id)


# --- One-time form tokens -----------------------------------------------------------------


def _mac(secret: bytes, nonce: str, day: str) -> str:
    digest = hmac.new(secret, f"{nonce}|{day}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue_form_token(engine: Engine) -> str:
    """A one-time token for one tip form (random, day-stamped, MAC'd; identifies nobody)."""
    with engine.connect() as conn:
        row = _row(conn)
    if row is None:
        raise TiplineClosed("the tip line is not open")
    nonce = secrets.token_urlsafe(16)
    day = day_now()
    return f"{nonce}.{day}.{_mac(bytes(row.form_secret), nonce, day)}"


def _spend_form_token(conn: Connection, secret: bytes, token: str) -> None:
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 100:
        raise FormReplayed("this form is not valid any more: reload the page and send it again")
    nonce, day, mac = parts
    today = datetime.now(UTC).date()
    fresh = {today.isoformat(), (today - timedelta(days=1)).isoformat()}
    if day not in fresh or not hmac.compare_digest(mac, _mac(secret, nonce, day)):
        raise FormReplayed("this form is not valid any more: reload the page and send it again")
    digest = hashlib.sha256(token.encode()).hexdigest()
    spent = conn.execute(
        select(spent_token_table.c.token_hash).where(spent_token_table.c.token_hash == digest)
    ).first()
    if spent is not None:
        raise FormReplayed(REPLAYED)
    # Two racing copies of one form both get here; the primary key stops the second, whose
    # transaction then fails as a whole (see _replay_guard).
    conn.execute(spent_token_table.insert().values(token_hash=digest, day=day))


REPLAYED = "this form was sent already (nothing was sent twice): reload the page to send more"


@contextmanager
def _replay_guard() -> Iterator[None]:
    try:
        yield
    except IntegrityError:
        raise FormReplayed(REPLAYED) from None


# --- Receipts -----------------------------------------------------------------------------


def new_receipt() -> str:
    """A fresh receipt, e.g. ``7K2Q-9XDM-4H1C-…`` (100 random bits)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(RECEIPT_CHARS))
    return "-".join(body[i : i + 4] for i in range(0, RECEIPT_CHARS, 4))


def normalise_receipt(value: str) -> str | None:
    """The receipt's 20 characters (typing slips such as O for 0 forgiven), or None."""
    clean = "".join(value.split()).replace("-", "").upper()
    for wrong, right in (("O", "0"), ("I", "1"), ("L", "1")):
        clean = clean.replace(wrong, right)
    if len(clean) != RECEIPT_CHARS or any(c not in _ALPHABET for c in clean):
        return None
    return clean


def _lookup(receipt: str) -> str:
    return hashlib.sha256(b"tidetrace-tip-lookup\0" + receipt.encode()).hexdigest()


def _reply_key(receipt: str) -> PrivateKey:
    seed = hashlib.sha256(b"tidetrace-tip-reply\0" + receipt.encode()).digest()
    return PrivateKey(derive_subkey(seed, b"tt.tip.reply"))


# --- Submitting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TipFile:
    """A file sent with a tip (in memory only)."""

    name: str = field(repr=False)
    data: bytes = field(repr=False)


def _check_message(message: str, language: str) -> str:
    if language not in LANGUAGES:
        raise TidetraceError("language is ko, zh or en")
    clean = message.replace("\x00", "").strip()
    if len(clean) > MAX_MESSAGE:
        raise TidetraceError(f"a message is at most {MAX_MESSAGE} characters")
    return clean


def _payload(
    ws: Workspace, message: str, language: str, files: list[TipFile], max_file_bytes: int
) -> bytes:
    if len(files) > MAX_FILES:
        raise TidetraceError(f"at most {MAX_FILES} files")
    if not message and not files:
        raise TidetraceError("write a message or attach a file")
    entries = []
    for f in files:
        stripped = media.strip_file(ws, f.data, max_file_bytes, images_only=False)
        if stripped.ftype.family not in FILE_FAMILIES or stripped.working is None:
            raise media.MediaError("send photos (JPEG, PNG, WebP) or PDF documents only")
        # Only the stripped copy is kept: nothing that could locate the sender is sealed.
        entries.append(
            {
                "name": f.name[:200],
                "mime": stripped.working_mime,
                "data": base64.b64encode(stripped.working).decode("ascii"),
                "stripped": True,
                "removed": stripped.removed,
            }
        )
    return canonical_json({"v": 1, "language": language, "message": message, "files": entries})


def _throttle() -> None:
    if not SUBMISSIONS.take():
        raise TiplineBusy("the tip line is busy: please try again in a few minutes")


def _store_tip(conn: Connection, row: Any, sealed: bytes, key_version: int) -> str:
    today = day_now()
    count = conn.execute(
        select(func.count()).select_from(tip_table).where(tip_table.c.created_day == today)
    ).scalar_one()
    if count >= row.daily_limit:
        raise TiplineBusy("the tip line is busy: please try again tomorrow")
    receipt = new_receipt()
    norm = normalise_receipt(receipt)
    assert norm is not None
    tip_id = new_id("tip")
    conn.execute(
        tip_table.insert().values(
            id=tip_id,
            lookup=_lookup(norm),
            reply_public=bytes(_reply_key(norm).public_key),
            created_day=today,
            status="new",
        )
    )
    _add_part(conn, tip_id, 1, "message", key_version, sealed)
    return receipt


def _add_part(
    conn: Connection,
    tip_id: str,
    seq: int,
    kind: str,
    key_version: int,
    sealed: bytes,
    for_submitter: bytes | None = None,
) -> None:
    conn.execute(
        tip_part_table.insert().values(
            id=new_id("tp"),
            tip_id=tip_id,
            seq=seq,
            kind=kind,
            key_version=key_version,
            created_day=day_now(),
            sealed=sealed,
            sealed_for_submitter=for_submitter,
        )
    )


def _begin_submission(conn: Connection, form_token: str | None) -> tuple[Any, IntakeKey]:
    row = _row(conn)
    if row is None:
        raise TiplineClosed("the tip line is not open")
    if form_token is not None:
        _spend_form_token(conn, bytes(row.form_secret), form_token)
    return row, current_public(conn, row.case_id)


def submit_plain(
    ws: Workspace,
    *,
    message: str,
    language: str,
    files: list[TipFile] | None = None,
    form_token: str | None = None,
    max_file_bytes: int,
) -> str:
    """Seal a tip sent in the clear (JavaScript off, or the JSON API) and store it.

    The plaintext lives only in this call's memory (files stripped in RAM); what is stored
    is the same sealed box the browser would have made.

    Args:
        ws: the workspace.
        message: the text.
        language: ``ko``, ``zh`` or ``en``.
        files: attachments (images or PDFs; stripped, only the stripped copy is kept).
        form_token: the page's one-time token (None for the JSON API).
        max_file_bytes: the largest file accepted.

    Returns:
        The receipt, to show once.
    """
    _throttle()
    clean = _check_message(message, language)
    payload = _payload(ws, clean, language, list(files or []), max_file_bytes)
    with _replay_guard(), ws.engine.begin() as conn:
        row, key = _begin_submission(conn, form_token)
        return _store_tip(conn, row, seal_box(payload, key.public), key.version)


def _check_sealed(sealed: bytes, max_bytes: int) -> None:
    if len(sealed) <= SEAL_OVERHEAD + 2 or len(sealed) > max_bytes:
        raise TidetraceError("the sealed message is empty or too large")


def submit_sealed(
    ws: Workspace, *, sealed: bytes, key_version: int, form_token: str | None, max_bytes: int
) -> str:
    """Store a tip the browser sealed itself (the server cannot read it).

    Raises:
        TidetraceError: sealed to an old key (the page was stale), empty or too large.
    """
    _throttle()
    _check_sealed(sealed, max_bytes)
    with _replay_guard(), ws.engine.begin() as conn:
        row, key = _begin_submission(conn, form_token)
        if key_version != key.version:
            raise TidetraceError("the page was out of date: reload it and send again")
        return _store_tip(conn, row, sealed, key.version)


def _find(conn: Connection, receipt: str) -> Any:
    norm = normalise_receipt(receipt)
    # Same work for a malformed receipt as for a real one: hash something anyway.
    lookup = _lookup(norm or "0" * RECEIPT_CHARS)
    row = conn.execute(select(tip_table).where(tip_table.c.lookup == lookup)).first()
    if norm is None or row is None:
        return None
    return row


def add_more(
    ws: Workspace,
    receipt: str,
    *,
    message: str | None = None,
    language: str = "en",
    sealed: bytes | None = None,
    key_version: int | None = None,
    files: list[TipFile] | None = None,
    form_token: str | None = None,
    max_bytes: int,
) -> None:
    """Add to an earlier tip, with its receipt.

    Raises:
        ReceiptFailure: for any problem with the receipt (one answer for all).
    """
    _throttle()
    payload: bytes | None = None
    if sealed is None:
        clean = _check_message(message or "", language)
        payload = _payload(ws, clean, language, list(files or []), max_bytes)
    else:
        _check_sealed(sealed, max_bytes)
    with _replay_guard(), ws.engine.begin() as conn:
        _, key = _begin_submission(conn, form_token)
        tip = _find(conn, receipt)
        if tip is None:
            raise ReceiptFailure()
        if sealed is not None and key_version != key.version:
            raise TidetraceError("the page was out of date: reload it and send again")
        box = sealed if sealed is not None else seal_box(payload or b"", key.public)
        seq = conn.execute(
            select(func.max(tip_part_table.c.seq)).where(tip_part_table.c.tip_id == tip.id)
        ).scalar_one()
        _add_part(conn, tip.id, int(seq or 0) + 1, "followup", key.version, box)
        conn.execute(update(tip_table).where(tip_table.c.id == tip.id).values(status="new"))


def replies(engine: Engine, receipt: str) -> list[dict[str, str]]:
    """The recipients' replies to a tip, opened with the key derived from its receipt.

    Raises:
        ReceiptFailure: for any problem (malformed, unknown, purged, too many lookups).
    """
    if not LOOKUPS.take():
        raise ReceiptFailure()
    norm = normalise_receipt(receipt)
    private = _reply_key(norm or "0" * RECEIPT_CHARS)
    with engine.connect() as conn:
        tip = _find(conn, receipt)
        parts = (
            conn.execute(
                select(tip_part_table.c.sealed_for_submitter, tip_part_table.c.created_day)
                .where(tip_part_table.c.tip_id == tip.id, tip_part_table.c.kind == "reply")
                .order_by(tip_part_table.c.seq)
            ).all()
            if tip is not None
            else []
        )
    if tip is None:
        raise ReceiptFailure()
    out = []
    for part in parts:
        try:
            body = json.loads(open_box(private, bytes(part.sealed_for_submitter)))
        except (TidetraceError, ValueError):
            raise ReceiptFailure() from None
        out.append({"text": str(body["text"]), "day": part.created_day})
    return out


# --- Recipients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TipRow:
    """A tip as the inbox lists it (no content)."""

    id: str
    day: str
    status: str
    parts: int


@dataclass
class TipFileInfo:
    """A file of a tip, described (bytes via :func:`read_tip_file`)."""

    index: int
    name: str
    mime: str
    size: int
    stripped: bool


@dataclass
class TipPart:
    """One message of a tip, opened."""

    seq: int
    kind: str
    day: str
    language: str
    text: str
    files: list[TipFileInfo]
    by: str | None = None
    problem: str | None = None


@dataclass
class TipView:
    """A tip, opened for a recipient."""

    id: str
    day: str
    status: str
    parts: list[TipPart]


def _recipient(engine: Engine, actor: UnlockedUser, factor: SecondFactor | None) -> CaseKeyring:
    require_factor(actor.user, factor)
    return open_case(engine, actor, tipline_case_id(engine))


def inbox(engine: Engine, actor: UnlockedUser, factor: SecondFactor | None) -> list[TipRow]:
    """Tips, newest day first (no content; recipients with a second factor)."""
    _recipient(engine, actor, factor)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                tip_table.c.id,
                tip_table.c.created_day,
                tip_table.c.status,
                func.count(tip_part_table.c.id).label("parts"),
            )
            .join(tip_part_table, tip_part_table.c.tip_id == tip_table.c.id)
            .group_by(tip_table.c.id, tip_table.c.created_day, tip_table.c.status)
            .order_by(tip_table.c.created_day.desc(), tip_table.c.id)
        ).all()
    return [TipRow(r.id, r.created_day, r.status, int(r.parts)) for r in rows]


def _open_payload(data: bytes) -> dict[str, Any]:
    """A submitter's payload, checked: it may come from any browser, so trust nothing."""
    body = json.loads(data)
    if not isinstance(body, dict):
        raise ValueError("not an object")
    message = body.get("message", "")
    language = body.get("language", "en")
    files = body.get("files") or []
    if not isinstance(message, str) or not isinstance(files, list) or language not in LANGUAGES:
        raise ValueError("malformed")
    return {"message": message[:MAX_MESSAGE], "language": language, "files": files[:MAX_FILES]}


def _parts(
    conn: Connection, keyring: CaseKeyring, tip_id: str
) -> list[tuple[Any, dict[str, Any] | None]]:
    rows = conn.execute(
        select(tip_part_table)
        .where(tip_part_table.c.tip_id == tip_id)
        .order_by(tip_part_table.c.seq)
    ).all()
    keys: dict[int, PrivateKey] = {}
    out: list[tuple[Any, dict[str, Any] | None]] = []
    for r in rows:
        if r.key_version not in keys:
            keys[r.key_version] = open_private(conn, keyring, r.key_version)
        try:
            raw = open_box(keys[r.key_version], bytes(r.sealed))
            body = json.loads(raw) if r.kind == "reply" else _open_payload(raw)
        except (TidetraceError, ValueError, UnicodeDecodeError):
            body = None
        out.append((r, body))
    return out


def _load_tip(conn: Connection, tip_id: str) -> Any:
    tip = conn.execute(select(tip_table).where(tip_table.c.id == tip_id)).first()
    if tip is None:
        raise NotFoundError(f"no tip {tip_id!r}")
    return tip


def read_tip(
    engine: Engine, actor: UnlockedUser, factor: SecondFactor | None, tip_id: str
) -> TipView:
    """Open a tip (recipients with a second factor); the read is a custody entry."""
    keyring = _recipient(engine, actor, factor)
    with engine.begin() as conn:
        tip = _load_tip(conn, tip_id)
        parts = []
        for row, body in _parts(conn, keyring, tip_id):
            if body is None:
                parts.append(
                    TipPart(
                        row.seq,
                        row.kind,
                        row.created_day,
                        "en",
                        "",
                        [],
                        problem="unreadable: not sealed to the tip line, or damaged",
                    )
                )
                continue
            if row.kind == "reply":
                parts.append(
                    TipPart(
                        row.seq,
                        "reply",
                        row.created_day,
                        "en",
                        str(body.get("text", "")),
                        [],
                        by=body.get("by"),
                    )
                )
                continue
            files = []
            for i, f in enumerate(body["files"]):
                if isinstance(f, dict):
                    data = str(f.get("data") or "")
                    files.append(
                        TipFileInfo(
                            i,
                            str(f.get("name", "file"))[:200],
                            str(f.get("mime", "")),
                            len(data) * 3 // 4,
                            bool(f.get("stripped")),
                        )
                    )
            parts.append(
                TipPart(
                    row.seq, row.kind, row.created_day, body["language"], body["message"], files
                )
            )
        if tip.status == "new":
            conn.execute(update(tip_table).where(tip_table.c.id == tip_id).values(status="read"))
        custody.append(
            conn,
            keyring,
            actor,
            "view",
            target=tip_id,
            details={"kind": "tip", "parts": len(parts)},
        )
    return TipView(tip.id, tip.created_day, "read" if tip.status == "new" else tip.status, parts)


def read_tip_file(
    ws: Workspace,
    actor: UnlockedUser,
    factor: SecondFactor | None,
    tip_id: str,
    seq: int,
    index: int,
    max_bytes: int,
) -> tuple[bytes, str, str]:
    """One file of a tip, metadata-stripped (again, in RAM, if the browser could not); logged.

    Returns:
        (bytes, media type, file name).
    """
    keyring = _recipient(ws.engine, actor, factor)
    with ws.engine.begin() as conn:
        _load_tip(conn, tip_id)
        found = [
            (r, b)
            for r, b in _parts(conn, keyring, tip_id)
            if r.seq == seq and b is not None and r.kind != "reply"
        ]
        if not found or not 0 <= index < len(found[0][1]["files"]):
            raise NotFoundError("no such file")
        entry = found[0][1]["files"][index]
        try:
            data = base64.b64decode(str(entry.get("data", "")), validate=True)
        except ValueError:
            raise NotFoundError("the file is damaged") from None
        custody.append(
            conn,
            keyring,
            actor,
            "view",
            target=tip_id,
            details={"kind": "tip file", "part": seq, "file": index},
        )
    stripped = media.strip_file(ws, data, max_bytes, images_only=False)
    if stripped.working is None or stripped.ftype.family not in FILE_FAMILIES:
        raise media.MediaError("this file is neither an image nor a PDF: not shown")
    return stripped.working, stripped.working_mime, str(entry.get("name", "file"))


def reply(
    engine: Engine, actor: UnlockedUser, factor: SecondFactor | None, tip_id: str, message: str
) -> None:
    """Reply to a tip: sealed for the recipients and for whoever holds the receipt."""
    keyring = _recipient(engine, actor, factor)
    clean = message.replace("\x00", "").strip()
    if not clean or len(clean) > MAX_REPLY:
        raise TidetraceError(f"a reply is 1-{MAX_REPLY} characters")
    with engine.begin() as conn:
        tip = _load_tip(conn, tip_id)
        key = ensure_intake_key(conn, keyring)
        seq = conn.execute(
            select(func.max(tip_part_table.c.seq)).where(tip_part_table.c.tip_id == tip_id)
        ).scalar_one()
        ours = seal_box(
            canonical_json({"text": clean, "by": actor.name, "at": now_iso()}), key.public
        )
        # The submitter's copy names nobody: whoever holds the receipt learns no recipient.
        theirs = seal_box(canonical_json({"text": clean}), bytes(tip.reply_public))
        _add_part(conn, tip_id, int(seq or 0) + 1, "reply", key.version, ours, theirs)
        conn.execute(update(tip_table).where(tip_table.c.id == tip_id).values(status="answered"))
        custody.append(conn, keyring, actor, "amend", target=tip_id, details={"kind": "tip reply"})


def promote(
    ws: Workspace,
    actor: UnlockedUser,
    factor: SecondFactor | None,
    tip_id: str,
    case_ref: str,
    *,
    as_: str,
    consent: Any = None,
    max_bytes: int,
) -> list[str]:
    """Copy a tip into a case as evidence (vault items) or as a testimony.

    Args:
        ws: the workspace.
        actor: a recipient who is also a member of the target case.
        factor: their second factor.
        tip_id: the tip.
        case_ref: the target case (id or name).
        as_: ``evidence`` or ``testimony``.
        consent: the consent record (a :class:`~tidetrace.intake.testimony.Consent`), required
            for a testimony — a tip carries none, so a recipient must have asked.
        max_bytes: the largest file accepted.

    Returns:
        The ids created in the case.
    """
    from tidetrace.vault import items
    from tidetrace.vault.blobs import random_name, scratch_dir
    from tidetrace.vault.sniff import sniff_bytes

    from .testimony import Consent, Photo, Submission, submit

    if as_ not in ("evidence", "testimony"):
        raise TidetraceError("promote a tip as evidence or as a testimony")
    view = read_tip(ws.engine, actor, factor, tip_id)
    target = open_case(ws.engine, actor, case_ref)
    messages = [p for p in view.parts if p.kind != "reply" and p.problem is None]
    text_all = "\n\n".join(p.text for p in messages if p.text)
    files: list[tuple[str, bytes]] = []
    for part in messages:
        for f in part.files:
            data, _mime, name = read_tip_file(
                ws, actor, factor, tip_id, part.seq, f.index, max_bytes
            )
            files.append((name, data))
    created: list[str] = []
    if as_ == "evidence":
        if text_all:
            created.append(
                items.add_note(
                    ws, actor, target, text_all, title=f"Anonymous tip ({view.day})"
                ).item.id
            )
        with scratch_dir(ws) as scratch:
            for name, data in files:
                path = scratch / random_name()
                path.write_bytes(data)
                result = items.add_file(
                    ws,
                    actor,
                    target,
                    path,
                    original_name=name,
                    method="anonymous tip line",
                    collected_by="anonymous tip line",
                    collected_at=view.day,
                )
                created.append(result.item.id)
    else:
        if not isinstance(consent, Consent):
            raise TidetraceError("a testimony needs its consent record: ask through a reply first")
        language = messages[0].language if messages else "en"
        # Files were stripped already; only images can be photographed pages.
        images = [Photo(d, n) for n, d in files if sniff_bytes(d[:8192]).family == "image"]
        receipt = submit(
            ws,
            actor.user,
            target.case_id,
            Submission(None, language, {}, consent, photos=images, transcript=text_all or None),
            max_photo_bytes=max_bytes,
            member=(actor, target),
            transcript_source="tip line",
        )
        created.append(receipt.testimony_id)
    with ws.engine.begin() as conn:
        conn.execute(update(tip_table).where(tip_table.c.id == tip_id).values(status="promoted"))
        custody.append(
            conn,
            open_case(ws.engine, actor, tipline_case_id(ws.engine)),
            actor,
            "export",
            target=tip_id,
            details={"kind": "tip promoted", "to_case": target.case_id, "as": as_, "ids": created},
        )
    return created


@dataclass(frozen=True)
class PurgeResult:
    """What a purge destroyed."""

    tips: int
    parts: int
    keys: int
    tokens: int
    before: str


def purge(ws: Workspace, actor: str, today: str | None = None) -> PurgeResult:
    """Destroy tips older than the retention period, and key pairs no tip needs any more.

    Rows are deleted (with SQLite's ``secure_delete`` on, so freed pages are zeroed; on
    PostgreSQL the space is reclaimed by VACUUM). A key version is destroyed once no tip
    is sealed to it and a newer one exists, so even a copy of a purged ciphertext can no
    longer be opened with what the database holds. Logged on the audit log (counts only).
    """
    day = today or day_now()
    with ws.engine.begin() as conn:
        row = _row(conn)
        if row is None:
            raise TiplineClosed("the tip line is not open")
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA secure_delete = ON"))
        cutoff = (
            datetime.fromisoformat(day).date() - timedelta(days=row.retention_days)
        ).isoformat()
        old = select(tip_table.c.id).where(tip_table.c.created_day < cutoff)
        parts = conn.execute(
            delete(tip_part_table).where(tip_part_table.c.tip_id.in_(old))
        ).rowcount
        tips = conn.execute(delete(tip_table).where(tip_table.c.created_day < cutoff)).rowcount
        latest = conn.execute(
            select(func.max(intake_key_table.c.version)).where(
                intake_key_table.c.case_id == row.case_id
            )
        ).scalar_one()
        used = select(tip_part_table.c.key_version).distinct()
        keys = conn.execute(
            delete(intake_key_table).where(
                intake_key_table.c.case_id == row.case_id,
                intake_key_table.c.version < latest,
                intake_key_table.c.version.not_in(used),
            )
        ).rowcount
        yesterday = (datetime.fromisoformat(day).date() - timedelta(days=1)).isoformat()
        tokens = conn.execute(
            delete(spent_token_table).where(spent_token_table.c.day < yesterday)
        ).rowcount
        audit.append(
            conn,
            actor,
            "tipline.purge",
            TIPLINE_ID,
            {"tips": tips, "parts": parts, "keys": keys, "before": cutoff},
        )
    return PurgeResult(tips, parts, keys, tokens, cutoff)
