#!/usr/bin/env python3
"""Verify a tidetrace evidence bundle offline: Python 3.9+ (standard library only) and ``openssl``.

Usage::

    python3 verify_bundle.py [BUNDLE.zip | DIRECTORY]

Without an argument it checks the directory it sits in (an unpacked bundle), or the zip it
was extracted from when given. It checks, and names every failure:

1. every file's SHA-256 against the manifest, and that nothing was added under ``files/``;
2. the custody log: entries numbered 1..N without gaps, each hashed with its predecessor,
   each signed (Ed25519) by the key of the user it names;
3. the opened entries: each matches the commitment its signed entry carries, and every
   exported file's SHA-256 is the one a signed entry recorded for that item;
4. the RFC 3161 timestamp tokens over the log head (``openssl ts -verify`` against the
   TSA certificate shipped in the bundle), so a rewritten or cut-off log is caught.

Exit status 0 when everything verifies, 1 otherwise.

This file is also imported by tidetrace itself (``tidetrace.vault.bundle_verify``): the
entry hash, signed message and checkpoint digest are defined here once, so the bundle's
verifier and the tool that wrote the log cannot drift apart. The Ed25519 verification
below is a small implementation of RFC 8032 section 5.1.7 written for this file; it
verifies, it never signs, and it is not constant-time (verification handles no secret).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

FORMAT = "tidetrace-bundle-1"
ENTRY_VERSION = 1
GENESIS = "0" * 64
SIGNATURE_CONTEXT = b"tidetrace-custody-v1\n"
CHECKPOINT_CONTEXT = "tidetrace-checkpoint-v1"

# --- What is hashed and signed ------------------------------------------------------------


def canonical(value: Any) -> bytes:
    """The byte form that is hashed or signed: JSON, sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def entry_body(entry: dict[str, Any]) -> dict[str, Any]:
    """The fields of a custody entry that its hash covers."""
    return {
        "v": entry.get("v", ENTRY_VERSION),
        "case": entry["case"],
        "seq": entry["seq"],
        "day": entry["day"],
        "actor": entry["actor"],
        "action": entry["action"],
        "target": entry["target"],
        "refs": entry["refs"],
        "commit": entry["commit"],
        "signer": entry["signer"],
        "prev": entry["prev"],
    }


def entry_hash(entry: dict[str, Any]) -> str:
    """The hex SHA-256 of an entry's body."""
    return hashlib.sha256(canonical(entry_body(entry))).hexdigest()


def signed_message(hash_hex: str) -> bytes:
    """What the acting user signs for an entry: a context label and the entry hash."""
    return SIGNATURE_CONTEXT + bytes.fromhex(hash_hex)


def payload_commit(salt_hex: str, payload: Any) -> str:
    """The commitment to an entry's encrypted payload: SHA-256(salt | canonical payload).

    The random salt keeps the commitment from revealing a guessable payload (a known
    file's hash, say) to someone who has only the log.
    """
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical(payload)).hexdigest()


def checkpoint_digest(case_id: str, seq: int, head_hash: str) -> str:
    """The hex SHA-256 a timestamp authority is asked to timestamp for a log head."""
    return hashlib.sha256(canonical([CHECKPOINT_CONTEXT, case_id, seq, head_hash])).hexdigest()


# --- Ed25519 verification (RFC 8032) ------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _point_add(p: _Point, q: _Point) -> _Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _point_mul(s: int, p: _Point) -> _Point:
    q: _Point = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _point_add(q, p)
        p = _point_add(p, p)
        s >>= 1
    return q


def _point_equal(p: _Point, q: _Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _decompress(data: bytes) -> _Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
assert _GX is not None
_BASE: _Point = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little")
    return _point_equal(_point_mul(s, _BASE), _point_add(r, _point_mul(h % _L, a)))


# --- Chain checks shared with tidetrace ---------------------------------------------------


def _original_position(entry: dict[str, Any], limit: int) -> int | None:
    """The number an entry had when it was hashed, if only its number was changed."""
    for seq in range(1, limit + 1):
        if seq != entry["seq"] and entry_hash({**entry, "seq": seq}) == entry["hash"]:
            return seq
    return None


def check_chain(entries: list[dict[str, Any]], keys: dict[str, str]) -> list[tuple[int, str]]:
    """Every problem in a case's custody entries, as ``(seq, reason)``.

    Args:
        entries: the entries in stored order, each with its body fields plus ``hash`` and
            ``signature``.
        keys: user name -> the hex Ed25519 public key registered for them.
    """
    problems: list[tuple[int, str]] = []
    prev = GENESIS
    expected = 1
    seen: set[int] = set()
    for entry in entries:
        seq = int(entry["seq"])
        if seq in seen:
            problems.append((seq, "inserted: a second entry with this number"))
        elif seq > expected:
            missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
            problems.append((seq, f"missing: entry {missing} before this one was removed"))
        elif seq < expected:
            problems.append((seq, f"reordered: entry {seq} comes after entry {expected - 1}"))
        seen.add(seq)
        if entry["prev"] != prev:
            problems.append(
                (
                    seq,
                    "does not follow the entry before it (removed, inserted or reordered entries)",
                )
            )
        digest = entry_hash(entry)
        if digest != entry["hash"]:
            moved = _original_position(entry, len(entries) + 1)
            if moved is not None:
                problems.append((seq, f"reordered: this is entry {moved}, moved here"))
            else:
                problems.append((seq, "modified: its content does not match its hash"))
        signer = str(entry["signer"])
        registered = keys.get(str(entry["actor"]))
        if registered is None:
            problems.append((seq, f"signed for an unknown user {entry['actor']!r}"))
        elif registered != signer:
            problems.append((seq, f"inserted: signed with a key that is not {entry['actor']}'s"))
        try:
            valid = ed25519_verify(
                bytes.fromhex(signer), signed_message(digest), bytes.fromhex(entry["signature"])
            )
        except ValueError:
            valid = False
        if not valid:
            problems.append((seq, "forged or modified: the signature does not verify"))
        prev = entry["hash"]
        expected = max(expected, seq + 1)
    return problems


def check_checkpoint_heads(
    entries: list[dict[str, Any]], checkpoints: list[dict[str, Any]]
) -> list[tuple[int, str]]:
    """Problems between the log and its timestamped heads (truncated or rewritten tails)."""
    problems: list[tuple[int, str]] = []
    by_seq = {int(e["seq"]): e for e in entries}
    last = max(by_seq) if by_seq else 0
    for cp in checkpoints:
        seq = int(cp["seq"])
        entry = by_seq.get(seq)
        if entry is None:
            if seq > last:
                problems.append(
                    (seq, f"truncated: a timestamp covers entry {seq} but the log ends at {last}")
                )
            else:
                problems.append((seq, "missing: the timestamped entry is gone"))
        elif entry["hash"] != cp["head_hash"] or entry_hash(entry) != cp["head_hash"]:
            problems.append((seq, "rewritten: the entry differs from the timestamped head"))
    return problems


# --- RFC 3161 tokens through openssl ------------------------------------------------------


def openssl_verify_token(token: Path, digest_hex: str, ca_file: Path) -> tuple[bool, str]:
    """Verify a timestamp response with ``openssl ts -verify``; returns (ok, message)."""
    try:
        result = subprocess.run(
            [
                "openssl",
                "ts",
                "-verify",
                "-digest",
                digest_hex,
                "-in",
                str(token),
                "-CAfile",
                str(ca_file),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        return False, "openssl is not installed"
    output = (result.stdout + result.stderr).strip()
    ok = result.returncode == 0 and "Verification: OK" in output
    return ok, output.splitlines()[-1] if output else "no output"


# --- The bundle ---------------------------------------------------------------------------


class _Bundle:
    """Reads members of a bundle from a zip or a directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path) if path.is_file() else None

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        return [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        return (self.path / name).read_bytes()

    def sha256(self, name: str) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        if self.zip is not None:
            with self.zip.open(name) as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        else:
            with open(self.path / name, "rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
                    size += len(block)
        return digest.hexdigest(), size


def verify_bundle(path: Path) -> tuple[list[str], list[str]]:
    """Check a bundle; returns (problems, notes). No problems means it verifies."""
    bundle = _Bundle(path)
    problems: list[str] = []
    notes: list[str] = []
    names = set(bundle.names())
    try:
        manifest = json.loads(bundle.read("manifest.json"))
        entries = [
            json.loads(line)
            for line in bundle.read("custody.jsonl").decode("utf-8").splitlines()
            if line.strip()
        ]
        openings = json.loads(bundle.read("openings.json"))
    except (KeyError, FileNotFoundError, ValueError) as exc:
        return [f"bundle incomplete or unreadable: {exc}"], notes
    if manifest.get("format") != FORMAT:
        problems.append(f"unknown bundle format {manifest.get('format')!r}")
    case_id = manifest["case"]["id"]

    # 1. files
    listed = set()
    for item in manifest["files"]:
        listed.add(item["path"])
        if item["path"] not in names:
            problems.append(f"file {item['path']}: missing")
            continue
        digest, size = bundle.sha256(item["path"])
        if digest != item["sha256"] or size != item["size"]:
            problems.append(f"file {item['path']}: modified (SHA-256 does not match)")
    for name in sorted(names):
        if name.startswith("files/") and name not in listed:
            problems.append(f"file {name}: inserted (not in the manifest)")
    notes.append(f"{len(listed)} file(s) checked")

    # 2. chain and signatures
    for entry in entries:
        if entry.get("case") != case_id:
            problems.append(f"custody entry {entry.get('seq')}: belongs to another case")
    keys = {name: info["sign_public"] for name, info in manifest["keys"].items()}
    for seq, reason in check_chain(entries, keys):
        problems.append(f"custody entry {seq}: {reason}")
    notes.append(f"{len(entries)} custody entries checked")

    # 3. openings and the files they attest
    by_seq = {int(e["seq"]): e for e in entries}
    attested: set[tuple[str, str, str]] = set()
    for seq_text, opening in openings.items():
        entry = by_seq.get(int(seq_text))
        if entry is None:
            problems.append(f"opening for entry {seq_text}: no such entry")
            continue
        if payload_commit(opening["salt"], opening["payload"]) != entry["commit"]:
            problems.append(f"opening for entry {seq_text}: does not match the signed entry")
            continue
        for role, info in (opening["payload"].get("files") or {}).items():
            attested.add((str(entry["target"]), role, str(info.get("sha256"))))
    for item in manifest["files"]:
        if (item["item"], item["role"], item["sha256"]) not in attested:
            problems.append(
                f"file {item['path']}: no signed custody entry records this SHA-256 for "
                f"item {item['item']} ({item['role']})"
            )

    # 4. timestamp checkpoints
    checkpoints = manifest.get("checkpoints") or []
    for seq, reason in check_checkpoint_heads(entries, checkpoints):
        problems.append(f"checkpoint at entry {seq}: {reason}")
    ca_name = manifest.get("tsa_ca")
    if checkpoints and not ca_name:
        problems.append("checkpoints present but no TSA CA certificate to verify them against")
    if checkpoints and ca_name:
        with tempfile.TemporaryDirectory() as tmp:
            ca_path = Path(tmp) / "tsa-ca.pem"
            ca_path.write_bytes(bundle.read(ca_name))
            for cp in checkpoints:
                token_path = Path(tmp) / f"{cp['seq']}.tsr"
                token_path.write_bytes(bundle.read(cp["token"]))
                digest = checkpoint_digest(case_id, int(cp["seq"]), cp["head_hash"])
                ok, message = openssl_verify_token(token_path, digest, ca_path)
                if not ok:
                    problems.append(
                        f"checkpoint at entry {cp['seq']}: timestamp token fails: {message}"
                    )
        notes.append(f"{len(checkpoints)} timestamp token(s) checked with openssl")
    last = max(by_seq) if by_seq else 0
    covered = max((int(cp["seq"]) for cp in checkpoints), default=0)
    if covered < last:
        notes.append(
            f"entries {covered + 1}-{last} are after the last timestamp: a cut-off tail there "
            "could not be detected"
        )
    return problems, notes


def main(argv: list[str]) -> int:
    """Command-line entry point; returns the exit status."""
    if len(argv) > 1 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    path = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems, notes = verify_bundle(path)
    for note in notes:
        print(f"note: {note}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        return 1
    print("OK: files, custody log, signatures and timestamps verify")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
