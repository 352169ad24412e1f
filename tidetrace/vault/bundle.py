"""Export bundles: evidence a court, a customs authority or an editor can check offline.

A bundle is a zip holding the chosen files (working copies by default, originals on
request), a manifest with their hashes and metadata, the case's whole custody log (public
fields, so the chain and signatures verify), the openings of the entries about the
exported items (so the recipient sees the signed capture records and their hashes), the
RFC 3161 tokens with the TSA's CA certificate, the signers' public keys, and
``verify_bundle.py``: a standalone script needing only Python 3 and ``openssl``.

Exporting is itself a custody entry per item, made before the bundle is written, so the
bundle carries the record of its own export.
"""

import json
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tidetrace import __version__
from tidetrace.exc import TidetraceError
from tidetrace.vault import bundle_verify, custody
from tidetrace.vault.blobs import BlobStore
from tidetrace.vault.cases import CaseKeyring, list_cases
from tidetrace.vault.crypto import canonical_json, now_iso
from tidetrace.vault.items import Item, get_item, list_items
from tidetrace.vault.keys import UnlockedUser
from tidetrace.workspace import Workspace

__all__ = ["DEFAULT_ROLES", "BundleResult", "export_bundle"]

DEFAULT_ROLES = ("working", "text")
SCRIPT_NAME = "verify_bundle.py"
README = """tidetrace evidence bundle
=========================

Check it offline (Python 3.9+ and openssl, nothing else):

    python3 verify_bundle.py            (inside the unpacked bundle)
    python3 verify_bundle.py bundle.zip

The script checks every file's SHA-256 against manifest.json, the custody log's hash chain
and Ed25519 signatures (custody.jsonl, keys in manifest.json), that a signed custody entry
recorded each exported file's hash (openings.json), and the RFC 3161 timestamp tokens over
the log (checkpoints/, verified with `openssl ts -verify` against tsa-ca.pem).

Working copies have identifying metadata (EXIF/GPS, document properties, container tags)
removed; each names the original's SHA-256 it was derived from and the tool used. The
originals stay sealed in the vault unless exported on purpose.
"""


@dataclass(frozen=True)
class BundleResult:
    """A written bundle.

    Attributes:
        path: the zip file.
        files: files included.
        entries: custody entries included.
        checkpoints: timestamp tokens included.
        warnings: what was left out and why, TSA trouble.
    """

    path: Path
    files: int
    entries: int
    checkpoints: int
    warnings: list[str] = field(default_factory=list)


def _safe_name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return clean[-80:]


def _case_name(ws: Workspace, actor: UnlockedUser, case_id: str) -> str:
    for case in list_cases(ws.engine, actor):
        if case.id == case_id:
            return case.name
    return case_id


def export_bundle(
    ws: Workspace,
    actor: UnlockedUser,
    keyring: CaseKeyring,
    out: Path,
    item_ids: list[str] | None = None,
    roles: tuple[str, ...] = DEFAULT_ROLES,
    purpose: str | None = None,
    tsa_url: str | None = None,
    tsa_ca_file: Path | None = None,
) -> BundleResult:
    """Write an export bundle of a case's items to ``out``.

    Args:
        ws: the workspace.
        actor: the exporting member (signs the export entries).
        keyring: the case's keys.
        out: the zip to write.
        item_ids: the items (default: every item of the case).
        roles: which files of each item (``original`` for originals).
        purpose: why, recorded in the export entries (e.g. "customs petition").
        tsa_url: timestamp the log head after the export entries.
        tsa_ca_file: the TSA's CA certificate, shipped so the tokens verify offline.

    Raises:
        NotFoundError: an item is not in the case.
        TidetraceError: nothing to export.
    """
    items: list[Item] = (
        [get_item(ws.engine, keyring, i) for i in item_ids]
        if item_ids
        else list_items(ws.engine, keyring)
    )
    if not items:
        raise TidetraceError("no evidence items to export")
    warnings: list[str] = []
    chosen: list[tuple[Item, str]] = []
    for item in items:
        for role in roles:
            if role in item.meta.files:
                chosen.append((item, role))
            elif role == "working" and "original" in item.meta.files:
                warnings.append(
                    f"{item.id}: no working copy ({'; '.join(item.meta.warnings) or 'none made'})"
                    " — its original was not exported; add 'original' on purpose if it must be"
                )
    with ws.engine.begin() as conn:
        for item in items:
            files = {r: asdict(item.meta.files[r]) for (i, r) in chosen if i.id == item.id}
            custody.append(
                conn,
                keyring,
                actor,
                "export",
                item.id,
                details={"files": files, "purpose": purpose, "bundle": out.name},
            )
    _cp, cp_warning = custody.checkpoint_if_configured(ws.engine, keyring.case_id, tsa_url)
    if cp_warning:
        warnings.append(cp_warning)
    with ws.engine.connect() as conn:
        log = custody.entries(conn, keyring.case_id)
        cps = custody.checkpoints(conn, keyring.case_id)
        keys = custody.registered_keys(conn)
    exported_ids = {item.id for item in items}
    openings = {
        str(e.seq): {"salt": opened.salt, "payload": opened.payload}
        for e in log
        if e.target in exported_ids
        for opened in [custody.open_entry(keyring, e)]
    }
    actors = {e.actor for e in log}
    store = BlobStore.for_workspace(ws)
    file_rows: list[dict[str, Any]] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".part", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        with zipfile.ZipFile(tmp_path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for item, role in chosen:
                info = item.meta.files[role]
                name = info.name if role == "original" else f"{role}{Path(info.name).suffix}"
                path = f"files/{item.id}/{role}-{_safe_name(name)}"
                with zf.open(path, "w", force_zip64=True) as dest:
                    digest = store.write_to(keyring, info.address, dest)
                if digest != info.sha256:
                    raise TidetraceError(f"{item.id} ({role}): content does not match its hash")
                file_rows.append(
                    {
                        "path": path,
                        "item": item.id,
                        "role": role,
                        "sha256": info.sha256,
                        "size": info.size,
                        "mime": info.mime,
                        "derived_from": info.derived_from,
                        "tool": info.tool,
                    }
                )
            cp_rows = []
            for cp in cps:
                token_name = f"checkpoints/{cp.seq}.tsr"
                zf.writestr(token_name, cp.token)
                cp_rows.append(
                    {
                        "seq": cp.seq,
                        "head_hash": cp.head_hash,
                        "gen_time": cp.gen_time,
                        "tsa_url": cp.tsa_url,
                        "token": token_name,
                    }
                )
            ca_name = None
            if cps and tsa_ca_file is not None and tsa_ca_file.is_file():
                ca_name = "tsa-ca.pem"
                zf.writestr(ca_name, tsa_ca_file.read_bytes())
            elif cps:
                warnings.append("no TSA CA file configured: the bundle's tokens cannot verify")
            manifest = {
                "format": bundle_verify.FORMAT,
                "generator": f"tidetrace {__version__}",
                "case": {"id": keyring.case_id, "name": _case_name(ws, actor, keyring.case_id)},
                "exported_at": now_iso(),
                "exported_by": actor.name,
                "purpose": purpose,
                "items": [
                    {"id": i.id, "kind": i.kind, "created_day": i.created_day, **_public_meta(i)}
                    for i in items
                ],
                "files": file_rows,
                "keys": {
                    name: {"sign_public": keys[name]} for name in sorted(actors) if name in keys
                },
                "checkpoints": cp_rows,
                "tsa_ca": ca_name,
            }
            zf.writestr("manifest.json", _pretty(manifest))
            zf.writestr(
                "custody.jsonl",
                "".join(canonical_json(e.public()).decode("utf-8") + "\n" for e in log),
            )
            zf.writestr("openings.json", _pretty(openings))
            zf.writestr(SCRIPT_NAME, Path(bundle_verify.__file__).read_text(encoding="utf-8"))
            zf.writestr("README.txt", README)
        tmp_path.replace(out)
    finally:
        tmp_path.unlink(missing_ok=True)
    return BundleResult(out, len(file_rows), len(log), len(cps), warnings)


def _public_meta(item: Item) -> dict[str, Any]:
    meta = item.meta.to_dict()
    # Blob addresses mean nothing outside this vault.
    for info in meta["files"].values():
        info.pop("address", None)
        info.pop("ct_sha256", None)
    return meta


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
