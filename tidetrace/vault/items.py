"""Evidence items: what was collected, by whom, when and how, how far it can be trusted.

An item is a row with a random id, its case, its kind and the day it was added; everything
else — title, original file name, hashes, who collected it and how, claimed place and time
with the method used to check them, verification steps, the Admiralty grade, perceptual
hashes, notes — is one JSON document sealed under the case key. Its files (original,
metadata-free working copy, text extraction …) are encrypted blobs. Every change is a
signed custody entry whose refs carry the hashes of the sealed row and blobs, so
``verify`` can tell a change made through tidetrace from one made behind its back.
"""

import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

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
    "FileInfo",
    "Item",
    "ItemMeta",
    "add_file",
    "add_note",
    "add_redaction",
    "add_verification_step",
    "amend",
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


def amend(
    ws: Workspace, actor: UnlockedUser, keyring: CaseKeyring, item_id: str, **changes: Any
) -> Item:
    """Change descriptive fields (title, claimed place/time and how verified, notes …).

    Raises:
        TidetraceError: a field that cannot be amended this way.
    """
    bad = set(changes) - AMENDABLE
    if bad:
        raise TidetraceError(f"cannot amend {', '.join(sorted(bad))}")

    def change(meta: ItemMeta) -> None:
        for key, value in changes.items():
            setattr(meta, key, value)

    return _update(ws, actor, keyring, item_id, "amend", change, {"changed": changes})


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
