"""Evidence items: what was collected, by whom, when and how, how far it can be trusted.

An item is a row with a random id, its case, its kind and the day it was added; everything
else — title, original file name, hashes, who collected it and how, claimed place and time
with the method used to check them, verification steps, the Admiralty grade, perceptual
hashes, notes — is one JSON document sealed under the case key. Its files (original,
metadata-free working copy, text extraction …) are encrypted blobs. Every change is a
signed custody entry whose refs carry the hashes of the sealed row and blobs, so
``verify`` can tell a change made through tidetrace from one made behind its back.
"""

import re
import shutil
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import imagehash
from PIL import Image
from sqlalchemy import Connection, Engine, select, update

from tidetrace.exc import NotFoundError, TidetraceError
from tidetrace.vault import custody
from tidetrace.vault.blobs import (
    BlobRef,
    BlobStore,
    Writable,
    discard_unrecorded,
    record_blob,
    scratch_dir,
)
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import day_now, new_id, now_iso, sha256_hex
from tidetrace.vault.keys import UnlockedUser
from tidetrace.vault.sniff import FileType, extension_warning, sniff_path
from tidetrace.vault.strip import MAX_PIXELS, StripError, make_working_copy
from tidetrace.vault.tables import blob_table, item_blob_table, item_table
from tidetrace.workspace import Workspace

__all__ = [
    "CREDIBILITY",
    "KINDS",
    "RELIABILITY",
    "AddResult",
    "Amendment",
    "FileInfo",
    "InvalidField",
    "Item",
    "ItemMeta",
    "add_file",
    "add_note",
    "add_redaction",
    "add_verification_step",
    "amend",
    "amend_item",
    "check_time",
    "check_value",
    "describe_amendment",
    "export_file",
    "find_similar",
    "get_item",
    "list_items",
    "parse_grade",
    "read_file",
    "set_grade",
    "store_item",
    "view_item",
]

KINDS: dict[str, str] = {
    "video": "video (phone footage, social-media video)",
    "image": "photograph or screenshot",
    "satellite_image": "satellite or aerial image",
    "document": "document: contract, invoice, leaked file, PDF",
    "web_page": "web page",
    "social_post": "social-media post (platform, account, posted time, caption, engagement)",
    "note": "an investigator's note",
}
# Admiralty (NATO) grading: source reliability A-F, information credibility 1-6.
RELIABILITY: dict[str, str] = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY: dict[str, str] = {
    "1": "confirmed by other sources",
    "2": "probably true",
    "3": "possibly true",
    "4": "doubtful",
    "5": "improbable",
    "6": "truth cannot be judged",
}
_KIND_BY_FAMILY = {"image": "image", "video": "video", "pdf": "document", "office": "document"}
MAX_TEXT = 20_000


def parse_grade(value: str) -> str:
    """A grade such as ``B2`` (source reliability A-F, information credibility 1-6).

    Raises:
        TidetraceError: not a valid grade.
    """
    clean = value.strip().upper()
    if len(clean) != 2 or clean[0] not in RELIABILITY or clean[1] not in CREDIBILITY:
        raise TidetraceError(
            f"grade {value!r}: source reliability A-F then information credibility 1-6, e.g. B2"
        )
    return clean


def describe_grade(grade: str | None) -> str:
    """``B2: usually reliable source; probably true`` (or "ungraded")."""
    if not grade:
        return "ungraded"
    return f"{grade}: {RELIABILITY[grade[0]]} source; {CREDIBILITY[grade[1]]}"


@dataclass
class FileInfo:
    """One file of an item.

    Attributes:
        role: ``original``, ``working``, ``text`` …
        name: the file name (the original's name as collected; ``working.jpg`` for copies).
        sha256: SHA-256 of the plaintext.
        size: plaintext size in bytes.
        mime: media type detected from the content.
        address: blob address in the case.
        ct_sha256: SHA-256 of the stored ciphertext.
        derived_from: for copies, the SHA-256 of the file it was made from.
        tool: for copies, the tool and version that made it.
        removed: for working copies, the kinds of metadata removed.
        notes: how it was made, anything a reviewer should know.
    """

    role: str
    name: str
    sha256: str
    size: int
    mime: str
    address: str
    ct_sha256: str
    derived_from: str | None = None
    tool: str | None = None
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def from_ref(cls, role: str, name: str, mime: str, ref: BlobRef, **extra: Any) -> "FileInfo":
        """From a stored blob."""
        return cls(role, name, ref.sha256, ref.size, mime, ref.address, ref.ct_sha256, **extra)


@dataclass
class ItemMeta:
    """Everything about an item that is sealed (never in the clear in the database)."""

    kind: str
    title: str
    about: list[str] = field(default_factory=list)
    collected_by: str = ""
    collected_at: str = ""
    method: str = ""
    source_url: str | None = None
    platform: str | None = None
    account: str | None = None
    posted_at: str | None = None
    captured_at: str | None = None
    caption: str | None = None
    engagement: dict[str, int] = field(default_factory=dict)
    claimed_location: str | None = None
    location_method: str | None = None
    claimed_time: str | None = None
    time_method: str | None = None
    verification: list[dict[str, str]] = field(default_factory=list)
    grade: str | None = None
    phash: str | None = None
    keyframes: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    text: str | None = None
    notes: str | None = None
    warnings: list[str] = field(default_factory=list)
    capture: dict[str, Any] = field(default_factory=dict)
    files: dict[str, FileInfo] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ItemMeta":
        """From :meth:`to_dict` output (unknown keys from newer versions are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["files"] = {k: FileInfo(**v) for k, v in (data.get("files") or {}).items()}
        return cls(**values)


# Fields amend() may change; the rest change through their own functions (grade, files).
AMENDABLE = frozenset(
    {
        "title",
        "about",
        "collected_by",
        "collected_at",
        "method",
        "source_url",
        "platform",
        "account",
        "posted_at",
        "captured_at",
        "caption",
        "engagement",
        "claimed_location",
        "location_method",
        "claimed_time",
        "time_method",
        "notes",
    }
)


@dataclass(frozen=True)
class Item:
    """An evidence item, opened."""

    id: str
    case_id: str
    kind: str
    created_day: str
    meta: ItemMeta

    @property
    def title(self) -> str:
        """The item's title."""
        return self.meta.title

    @property
    def grade_text(self) -> str:
        """The grade with its meaning."""
        return describe_grade(self.meta.grade)


@dataclass(frozen=True)
class AddResult:
    """What adding evidence produced.

    Attributes:
        item: the new item.
        warnings: things the investigator should know (lying extension, no working copy,
            TSA unreachable …).
        entry: the custody entry recording the capture.
    """

    item: Item
    warnings: list[str]
    entry: custody.Entry


def _meta_context(item_id: str) -> tuple[str, str, str]:
    return ("item", item_id, "meta")


def _seal_meta(keyring: CaseKeyring, item_id: str, meta: ItemMeta) -> bytes:
    return keyring.seal_json(meta.to_dict(), *_meta_context(item_id))


def _file_details(meta: ItemMeta, roles: list[str] | None = None) -> dict[str, Any]:
    return {
        role: asdict(info) for role, info in meta.files.items() if roles is None or role in roles
    }


def store_item(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    meta: ItemMeta,
    action: str = "capture",
    details: dict[str, Any] | None = None,
) -> custody.Entry:
    """Write a new item (its files already in the blob store) and its custody entry.

    The item row, its blob rows and the signed entry commit together or not at all.
    """
    if meta.kind not in KINDS:
        raise TidetraceError(f"unknown evidence kind {meta.kind!r}; one of: {', '.join(KINDS)}")
    sealed = _seal_meta(keyring, item_id, meta)
    with ws.engine.begin() as conn:
        for info in meta.files.values():
            record_blob(
                conn,
                keyring.case_id,
                BlobRef(info.address, info.sha256, info.size, info.ct_sha256, 0),
            )
        conn.execute(
            item_table.insert().values(
                id=item_id,
                case_id=keyring.case_id,
                kind=meta.kind,
                created_day=day_now(),
                meta_enc=sealed,
            )
        )
        for role, info in meta.files.items():
            conn.execute(
                item_blob_table.insert().values(item_id=item_id, role=role, address=info.address)
            )
        entry = custody.append(
            conn,
            keyring,
            actor,
            action,
            item_id,
            refs=_refs(conn, keyring.case_id, item_id, sealed, meta),
            details={"kind": meta.kind, "files": _file_details(meta), **(details or {})},
        )
    return entry


def _refs(
    conn: Connection, case_id: str, item_id: str, sealed: bytes, meta: ItemMeta
) -> dict[str, Any]:
    blobs = {}
    for info in meta.files.values():
        ct = conn.execute(
            select(blob_table.c.ct_sha256).where(
                blob_table.c.case_id == case_id, blob_table.c.address == info.address
            )
        ).scalar_one()
        blobs[info.address] = ct
    return {"rows": {item_id: sha256_hex(sealed)}, "blobs": blobs}


def _image_phash(path: Path) -> str | None:
    try:
        with Image.open(path) as im:
            if im.size[0] * im.size[1] > MAX_PIXELS:
                return None
            return str(imagehash.phash(im))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def add_file(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    path: Path,
    *,
    kind: str | None = None,
    title: str | None = None,
    about: list[str] | None = None,
    grade: str | None = None,
    method: str | None = None,
    collected_by: str | None = None,
    collected_at: str | None = None,
    original_name: str | None = None,
    ocr: bool = True,
    tsa_url: str | None = None,
    **extra: Any,
) -> AddResult:
    """Add a file as evidence: seal the original byte for byte, make a working copy.

    The file is streamed (any size); its real type comes from its content. Images and
    video keyframes get perceptual hashes; videos are triaged for Hangul text.

    Args:
        ws: the workspace.
        actor: the unlocked user adding it (signs the capture entry).
        keyring: the case's keys.
        path: the file.
        kind: one of :data:`KINDS` (default: from the content).
        title: a short description (default: the file name).
        about: ids of the entities the item is about.
        grade: Admiralty grade, e.g. ``B2``.
        method: how it was collected (tool, method).
        collected_by: who collected it (default: the actor).
        collected_at: when it was collected (default: now).
        original_name: the name it had when collected (default: ``path``'s name).
        ocr: OCR video keyframes for Hangul.
        tsa_url: timestamp the custody log head afterwards.
        **extra: further :class:`ItemMeta` fields (platform, claimed_location …).

    Raises:
        TidetraceError: not a file, bad kind or grade.
    """
    if not path.is_file():
        raise TidetraceError(f"{path}: not a file")
    name = original_name or path.name
    detected = sniff_path(path)
    warnings: list[str] = []
    lie = extension_warning(name, detected)
    if lie is not None:
        warnings.append(lie)
    chosen = kind or _KIND_BY_FAMILY.get(detected.family, "document")
    if chosen == "note":
        raise TidetraceError("a note is text: use add_note")
    unknown = set(extra) - AMENDABLE
    if unknown:
        raise TidetraceError(f"unknown item fields: {', '.join(sorted(unknown))}")
    meta = ItemMeta(
        kind=chosen,
        title=(title or name)[:500],
        about=list(about or []),
        collected_by=collected_by or actor.name,
        collected_at=collected_at or now_iso(),
        method=method or "tidetrace evidence add (file)",
        grade=parse_grade(grade) if grade else None,
        **extra,
    )
    store = BlobStore.for_workspace(ws)
    original = store.put_file(keyring, path)
    meta.files["original"] = FileInfo.from_ref("original", name, detected.mime, original)
    if original.size == 0:
        warnings.append("the file is empty (0 bytes)")
    item_id = new_id("ev")
    try:
        with scratch_dir(ws, original.size) as scratch:
            _add_derived(ws, keyring, path, detected, meta, scratch, warnings, ocr)
        meta.warnings = warnings
        entry = store_item(ws, actor, keyring, item_id, meta)
    except BaseException:
        with ws.engine.connect() as conn:
            addresses = [f.address for f in meta.files.values()]
            discard_unrecorded(store, conn, keyring.case_id, addresses)
        raise
    _cp, cp_warning = custody.checkpoint_if_configured(ws.engine, keyring.case_id, tsa_url)
    if cp_warning:
        warnings.append(cp_warning)
    return AddResult(Item(item_id, keyring.case_id, chosen, day_now(), meta), warnings, entry)


def _add_derived(
    ws: Workspace,
    keyring: CaseKeyring,
    path: Path,
    detected: FileType,
    meta: ItemMeta,
    scratch: Path,
    warnings: list[str],
    ocr: bool,
) -> None:
    """Working copy, perceptual hashes and video triage for a file being added."""
    from tidetrace.vault import video

    store = BlobStore.for_workspace(ws)
    original = meta.files["original"]
    if original.size == 0:
        return
    try:
        copy = make_working_copy(path, scratch, detected)
    except StripError as exc:
        warnings.append(f"no working copy: {exc.detail}")
    else:
        ref = store.put_file(keyring, copy.path)
        meta.files["working"] = FileInfo.from_ref(
            "working",
            f"working{copy.path.suffix}",
            copy.mime,
            ref,
            derived_from=original.sha256,
            tool=copy.tool,
            removed=copy.removed,
            notes=copy.notes,
        )
    if detected.family == "image":
        meta.phash = _image_phash(path)
    if detected.family == "video":
        frames = scratch / "frames"
        frames.mkdir()
        try:
            result = video.triage(path, frames, ocr=ocr)
        except video.VideoError as exc:
            warnings.append(f"video triage failed: {exc.detail}")
        else:
            meta.keyframes = [{"t": k.t, "phash": k.phash} for k in result.keyframes]
            meta.flags = [{"t": f.t, "text": f.text, "hangul": f.hangul} for f in result.flags]
            meta.capture["triage_tool"] = result.tool
            if result.flags:
                warnings.append(
                    f"{len(result.flags)} keyframe(s) show Korean-language text: review at "
                    + ", ".join(f"{f.t:.1f}s" for f in result.flags[:10])
                )
        finally:
            shutil.rmtree(frames, ignore_errors=True)


def add_note(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    text: str,
    *,
    title: str | None = None,
    about: list[str] | None = None,
    grade: str | None = None,
    tsa_url: str | None = None,
) -> AddResult:
    """Add an investigator's note as an item (sealed like every other item)."""
    clean = text.strip()
    if not clean:
        raise TidetraceError("a note needs text")
    if len(clean) > MAX_TEXT:
        raise TidetraceError(f"a note is at most {MAX_TEXT} characters")
    meta = ItemMeta(
        kind="note",
        title=(title or clean.splitlines()[0])[:200],
        about=list(about or []),
        collected_by=actor.name,
        collected_at=now_iso(),
        method="note",
        grade=parse_grade(grade) if grade else None,
        text=clean,
    )
    item_id = new_id("ev")
    entry = store_item(
        ws, actor, keyring, item_id, meta, details={"text_sha256": sha256_hex(clean.encode())}
    )
    warnings = []
    _cp, cp_warning = custody.checkpoint_if_configured(ws.engine, keyring.case_id, tsa_url)
    if cp_warning:
        warnings.append(cp_warning)
    return AddResult(Item(item_id, keyring.case_id, "note", day_now(), meta), warnings, entry)


def _load(conn: Connection, keyring: CaseKeyring, item_id: str) -> tuple[Item, bytes]:
    row = conn.execute(
        select(item_table).where(
            item_table.c.id == item_id, item_table.c.case_id == keyring.case_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no evidence item {item_id!r} in this case")
    meta = ItemMeta.from_dict(keyring.open_json(row.meta_enc, *_meta_context(item_id)))
    return Item(row.id, row.case_id, row.kind, row.created_day, meta), row.meta_enc


def get_item(engine: Engine, keyring: CaseKeyring, item_id: str) -> Item:
    """An item, opened, without recording a view (for internal use and listings).

    Raises:
        NotFoundError: no such item in this case.
    """
    with engine.connect() as conn:
        return _load(conn, keyring, item_id)[0]


def view_item(ws: Workspace, actor: UnlockedUser, keyring: CaseKeyring, item_id: str) -> Item:
    """An item, opened by a person: the view is a signed custody entry."""
    with ws.engine.begin() as conn:
        item, _sealed = _load(conn, keyring, item_id)
        custody.append(conn, keyring, actor, "view", item_id)
    return item


def list_items(
    engine: Engine, keyring: CaseKeyring, about: str | None = None, kind: str | None = None
) -> list[Item]:
    """A case's items, newest first (optionally only those about an entity, or of a kind)."""
    query = select(item_table).where(item_table.c.case_id == keyring.case_id)
    if kind is not None:
        query = query.where(item_table.c.kind == kind)
    out = []
    with engine.connect() as conn:
        for row in conn.execute(query.order_by(item_table.c.created_day.desc(), item_table.c.id)):
            meta = ItemMeta.from_dict(keyring.open_json(row.meta_enc, *_meta_context(row.id)))
            if about is not None and about not in meta.about:
                continue
            out.append(Item(row.id, row.case_id, row.kind, row.created_day, meta))
    return out


def _update(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    action: str,
    change: Any,
    details: dict[str, Any] | None = None,
    new_files: dict[str, FileInfo] | None = None,
) -> Item:
    """Change an item's sealed metadata and record it, in one transaction."""
    with ws.engine.begin() as conn:
        item, _old = _load(conn, keyring, item_id)
        change(item.meta)
        for role, info in (new_files or {}).items():
            item.meta.files[role] = info
            record_blob(
                conn,
                keyring.case_id,
                BlobRef(info.address, info.sha256, info.size, info.ct_sha256, 0),
            )
            conn.execute(
                item_blob_table.delete().where(
                    item_blob_table.c.item_id == item_id, item_blob_table.c.role == role
                )
            )
            conn.execute(
                item_blob_table.insert().values(item_id=item_id, role=role, address=info.address)
            )
        sealed = _seal_meta(keyring, item_id, item.meta)
        conn.execute(update(item_table).where(item_table.c.id == item_id).values(meta_enc=sealed))
        refs = {"rows": {item_id: sha256_hex(sealed)}}
        if new_files:
            refs["blobs"] = {i.address: i.ct_sha256 for i in new_files.values()}
        custody.append(conn, keyring, actor, action, item_id, refs=refs, details=details)
    return item


def set_grade(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    grade: str,
    reason: str | None = None,
) -> Item:
    """Change an item's Admiralty grade; the old and new grade and reason are logged."""
    new = parse_grade(grade)

    def change(meta: ItemMeta) -> None:
        meta.grade = new

    item = get_item(ws.engine, keyring, item_id)
    details = {"from": item.meta.grade, "to": new, "reason": reason}
    return _update(ws, actor, keyring, item_id, "grade", change, details)


class InvalidField(TidetraceError):
    """A value :func:`amend_item` refuses: the field and the reason, in one line."""

    STATUS = 422

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"field {name!r}: {reason}")
        self.field = name
        self.reason = reason


# Longest value of each text field, in characters. A caption's is the longest the platforms
# in question allow (YouTube descriptions, 5,000; Douyin, Bilibili, Weibo and Instagram
# allow less): longer text is a page, captured as one, not a caption.
TEXT_LIMITS: dict[str, int] = {
    "title": 500,
    "collected_by": 200,
    "method": 2000,
    "source_url": 4000,
    "platform": 200,
    "account": 500,
    "caption": 5000,
    "claimed_location": 2000,
    "location_method": 2000,
    "time_method": 2000,
    "notes": MAX_TEXT,
}
TIME_FIELDS = frozenset({"collected_at", "posted_at", "captured_at", "claimed_time"})
# Text that keeps its line breaks (and tabs); every other field is one line.
MULTILINE = frozenset({"caption", "notes"})
# Fields every item has: they can be corrected, not emptied.
REQUIRED = frozenset({"title", "collected_by", "collected_at", "method"})
# What a URL capture recorded itself and its WARC holds: changing it would make the item
# disagree with its own sealed original.
CAPTURED = frozenset({"source_url", "captured_at", "collected_at"})
MAX_ABOUT = 50
MAX_ENGAGEMENT = 20
MAX_REASON = 2000
_ENTITY_ID = re.compile(r"^[\w.:/-]{1,255}$")
_COUNTER = re.compile(r"^[\w -]{1,40}$")
# ISO 8601 as investigators write claimed times: reduced precision (2023, 2023-11), a date,
# a date and time with an optional offset, or an interval start/end of those.
_INSTANT = re.compile(
    r"(?P<date>\d{4}(?:-\d{2}(?:-\d{2})?)?)"
    r"(?:T(?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?))?"
)
ISO_HINT = "e.g. 2023-11, 2023-11-04, 2023-11-04T02:00+08:00, or start/end"


def _instant(text: str) -> datetime | None:
    """The earliest moment ``text`` can mean (UTC when it names no offset), or None."""
    found = _INSTANT.fullmatch(text)
    if found is None:
        return None
    day, clock = found.group("date"), found.group("time")
    if clock is not None and len(day) != 10:
        return None  # a time of day needs a full date
    try:
        if clock is not None:
            # Python reads at most 6 fraction digits; the rest are below a microsecond.
            clock = re.sub(r"[.,](\d{1,6})\d*", r".\1", clock)
            value = datetime.fromisoformat(f"{day}T{clock}")
        else:
            parts = [int(p) for p in day.split("-")] + [1, 1]
            value = datetime(parts[0], parts[1], parts[2])
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def check_time(name: str, value: str) -> str:
    """An ISO 8601 date, time or interval, normalised (``T`` separator, upper case).

    Raises:
        InvalidField: not ISO 8601, an impossible date, or an interval ending before it
            starts.
    """
    text = value.strip().upper()
    # A space between date and time is RFC 3339's allowance; ISO 8601 wants the T.
    text = re.sub(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:)", r"\1T\2", text)
    text = re.sub(r"/(\d{4}-\d{2}-\d{2}) (\d{2}:)", r"/\1T\2", text)
    parts = text.split("/")
    moments = [_instant(p) for p in parts]
    if len(parts) > 2 or any(m is None for m in moments):
        shown = value.strip()[:60]
        raise InvalidField(name, f"{shown!r} is not an ISO 8601 date or time ({ISO_HINT})")
    start, end = moments[0], moments[-1]
    if start is not None and end is not None and start > end:
        raise InvalidField(name, f"the interval {text!r} ends before it starts")
    return text


def _check_text(name: str, value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        raise InvalidField(name, "must be text")
    text = value.replace("\r\n", "\n").replace("\r", "\n") if name in MULTILINE else value
    allowed = "\n\t" if name in MULTILINE else ""
    for char in text:
        if char not in allowed and unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidField(name, f"control character U+{ord(char):04X} is not allowed")
    text = text.strip()
    if len(text) > limit:
        raise InvalidField(name, f"{len(text):,} characters; at most {limit:,}")
    return text or None


def _check_about(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidField("about", "must be a list of entity ids")
    out: list[str] = []
    for raw in value:
        entity_id = raw.strip()
        if not entity_id:
            continue
        if not _ENTITY_ID.match(entity_id):
            raise InvalidField("about", f"{entity_id[:40]!r} is not an entity id")
        if entity_id not in out:
            out.append(entity_id)
    if len(out) > MAX_ABOUT:
        raise InvalidField("about", f"{len(out)} entities; at most {MAX_ABOUT}")
    return out


def _check_engagement(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise InvalidField("engagement", "must map counter names to counts, e.g. likes=120")
    out: dict[str, int] = {}
    for key, count in value.items():
        name = str(key).strip().lower()
        if not _COUNTER.match(name):
            raise InvalidField("engagement", f"{str(key)[:40]!r} is not a counter name")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10**12:
            raise InvalidField("engagement", f"{name}: {count!r} is not a count")
        out[name] = count
    if len(out) > MAX_ENGAGEMENT:
        raise InvalidField("engagement", f"{len(out)} counters; at most {MAX_ENGAGEMENT}")
    return out


def check_value(name: str, value: Any) -> Any:
    """One amendable field's value, checked and normalised; None (or "") clears it.

    Raises:
        InvalidField: the value is not acceptable for the field, with the reason.
        TidetraceError: not an amendable field.
    """
    if name not in AMENDABLE:
        raise TidetraceError(
            f"cannot amend {name}: amendable fields are {', '.join(sorted(AMENDABLE))}"
        )
    if name == "about":
        return _check_about([] if value is None else value)
    if name == "engagement":
        return _check_engagement({} if value is None else value)
    if value is None or (isinstance(value, str) and not value.strip()):
        if name in REQUIRED:
            raise InvalidField(name, "cannot be empty")
        return None
    if name in TIME_FIELDS:
        if not isinstance(value, str):
            raise InvalidField(name, "must be text")
        _check_text(name, value, 200)
        return check_time(name, value)
    text = _check_text(name, value, TEXT_LIMITS[name])
    if name == "source_url" and text is not None:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
            raise InvalidField(name, f"{text[:60]!r} is not an http(s) URL")
    return text


@dataclass(frozen=True)
class Amendment:
    """What amending an item did.

    Attributes:
        item: the item after the change.
        changes: each changed field's old and new value (nothing listed: nothing changed).
        entry: the signed custody entry recording it (None when nothing changed).
    """

    item: Item
    changes: dict[str, tuple[Any, Any]]
    entry: custody.Entry | None


def _same(raw: Any, current: Any) -> bool:
    """Whether a submitted value is the recorded one (a form sends every field back)."""
    if isinstance(raw, str):
        raw = raw.strip() or None
    if isinstance(current, str):
        current = current.strip() or None
    return bool(raw == current or (raw in (None, [], {}) and current in (None, [], {})))


def amend_item(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    changes: Mapping[str, Any],
    reason: str | None = None,
) -> Amendment:
    """Correct or complete what is recorded about an item, as one signed custody entry.

    Claimed place and time with the method used to verify them, caption, platform and
    account, posted time, title, notes … (:data:`AMENDABLE`). A value equal to the
    recorded one is no change, so a form can send every field back; a value that differs
    is checked (:func:`check_value`) and the entry keeps the old and the new value and
    the reason (sealed, like every payload), so the history shows what the item said
    before. Nothing changed, no entry. The grade and the files change through their own
    functions.

    Raises:
        InvalidField: a value that is not acceptable (not ISO 8601, too long, control
            characters …), or a fact a URL capture recorded itself.
        TidetraceError: a field that cannot be amended.
        NotFoundError: no such item in this case.
    """
    bad = set(changes) - AMENDABLE
    if bad:
        raise TidetraceError(
            f"cannot amend {', '.join(sorted(bad))}: amendable fields are "
            + ", ".join(sorted(AMENDABLE))
        )
    why = _check_text("reason", reason, MAX_REASON) if reason is not None else None
    with ws.engine.begin() as conn:
        item, _old = _load(conn, keyring, item_id)
        meta = item.meta
        diff: dict[str, tuple[Any, Any]] = {}
        for name, raw in changes.items():
            current = getattr(meta, name)
            if _same(raw, current):
                continue
            if name in CAPTURED and meta.capture.get("final_url"):
                raise InvalidField(
                    name, "recorded by the URL capture (its WARC holds it); it cannot be amended"
                )
            value = check_value(name, raw)
            if not _same(value, current):
                diff[name] = (current, value)
        if not diff:
            return Amendment(item, {}, None)
        for name, (_before, value) in diff.items():
            setattr(meta, name, value)
        sealed = _seal_meta(keyring, item_id, meta)
        conn.execute(update(item_table).where(item_table.c.id == item_id).values(meta_enc=sealed))
        details: dict[str, Any] = {
            "from": {name: old for name, (old, _new) in diff.items()},
            "to": {name: new for name, (_old, new) in diff.items()},
        }
        if why:
            details["reason"] = why
        entry = custody.append(
            conn,
            keyring,
            actor,
            "amend",
            item_id,
            refs={"rows": {item_id: sha256_hex(sealed)}},
            details=details,
        )
    return Amendment(item, diff, entry)


def amend(
    ws: Workspace, actor: UnlockedUser, keyring: CaseKeyring, item_id: str, **changes: Any
) -> Item:
    """:func:`amend_item` with the changes as keywords; returns the item.

    Raises:
        TidetraceError: a field that cannot be amended this way, or a value refused.
    """
    return amend_item(ws, actor, keyring, item_id, changes).item


def _shown(value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    text = " ".join(str(value).split())
    return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'


def describe_amendment(payload: Mapping[str, Any]) -> str:
    """An ``amend`` custody entry in a line: each field's old → new value, and why."""
    if "verification" in payload:
        return f"verified: {payload['verification'].get('step', '')}"
    old, new = payload.get("from"), payload.get("to")
    if isinstance(old, dict) and isinstance(new, dict):
        line = "; ".join(
            f"{name}: {_shown(old.get(name))} → {_shown(v)}" for name, v in new.items()
        )
        return line + (f" (why: {payload['reason']})" if payload.get("reason") else "")
    # Entries written before amendments kept the old values name the fields only.
    return "changed " + ", ".join(sorted(payload.get("changed") or {}))


def add_verification_step(
    ws: Workspace, actor: UnlockedUser, keyring: CaseKeyring, item_id: str, step: str
) -> Item:
    """Record a verification step done (e.g. "geolocated against Sentinel-2, 2023-11-04")."""
    clean = step.strip()
    if not clean:
        raise TidetraceError("a verification step needs a description")
    record = {"at": now_iso(), "by": actor.name, "step": clean[:2000]}

    def change(meta: ItemMeta) -> None:
        meta.verification.append(record)

    return _update(ws, actor, keyring, item_id, "amend", change, {"verification": record})


def add_redaction(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    path: Path,
    note: str,
) -> Item:
    """Replace the shareable working copy with a redacted one made elsewhere.

    The new file is itself stripped of metadata; its derivation names the file it
    replaces and the note says what was redacted. The original is untouched.

    Raises:
        StripError: the redacted file cannot be stripped of metadata.
    """
    item = get_item(ws.engine, keyring, item_id)
    basis = item.meta.files.get("working") or item.meta.files.get("original")
    if basis is None:
        raise TidetraceError("this item has no file to redact")
    store = BlobStore.for_workspace(ws)
    with scratch_dir(ws, path.stat().st_size) as scratch:
        copy = make_working_copy(path, scratch)
        ref = store.put_file(keyring, copy.path)
    info = FileInfo.from_ref(
        "working",
        f"working{copy.path.suffix}",
        copy.mime,
        ref,
        derived_from=basis.sha256,
        tool=f"redaction by {actor.name}; {copy.tool}",
        removed=copy.removed,
        notes=[note.strip()[:2000], *copy.notes],
    )
    return _update(
        ws,
        actor,
        keyring,
        item_id,
        "redaction",
        lambda meta: None,
        {"files": {"working": asdict(info)}, "note": note.strip()[:2000]},
        new_files={"working": info},
    )


def read_file(
    ws: Workspace, keyring: CaseKeyring, item: Item, role: str = "working"
) -> Iterator[bytes]:
    """Decrypt one of an item's files, chunk by chunk (no custody entry: callers log).

    Raises:
        NotFoundError: the item has no file in that role.
    """
    info = item.meta.files.get(role)
    if info is None:
        raise NotFoundError(f"item {item.id} has no {role} file")
    return BlobStore.for_workspace(ws).read(keyring, info.address)


def export_file(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    item_id: str,
    dest: Writable,
    role: str = "working",
    purpose: str | None = None,
) -> FileInfo:
    """Write one of an item's files to ``dest``, checking its hash; logs an export.

    Raises:
        TidetraceError: the decrypted file does not have the recorded SHA-256.
    """
    item = get_item(ws.engine, keyring, item_id)
    info = item.meta.files.get(role)
    if info is None:
        raise NotFoundError(f"item {item_id} has no {role} file")
    digest = BlobStore.for_workspace(ws).write_to(keyring, info.address, dest)
    if digest != info.sha256:
        raise TidetraceError(f"item {item_id} ({role}): content does not match its SHA-256")
    with ws.engine.begin() as conn:
        custody.append(
            conn,
            keyring,
            actor,
            "export",
            item_id,
            details={"files": {role: asdict(info)}, "purpose": purpose},
        )
    return info


def find_similar(
    engine: Engine, keyring: CaseKeyring, phash: str, max_distance: int = 8
) -> list[tuple[Item, int]]:
    """Items whose image or keyframe perceptual hash is within ``max_distance`` bits.

    Finds re-uploads and re-encodings of the same picture or footage in a case.
    """
    target = imagehash.hex_to_hash(phash)
    found = []
    for item in list_items(engine, keyring):
        hashes = [item.meta.phash] if item.meta.phash else []
        hashes += [k["phash"] for k in item.meta.keyframes]
        distances = [target - imagehash.hex_to_hash(h) for h in hashes]
        if distances and min(distances) <= max_distance:
            found.append((item, int(min(distances))))
    return sorted(found, key=lambda pair: pair[1])
