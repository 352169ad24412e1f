"""A content-addressed store of encrypted files, streamed so no file sits whole in memory.

Each blob has its own random key, wrapped under the case key in the blob's header, and its
content is encrypted with libsodium's secretstream (XChaCha20-Poly1305) in 64 KiB chunks:
every chunk is authenticated, chunks cannot be reordered, dropped or duplicated, and the
last one carries the FINAL tag, so a truncated file is detected too.

The address is ``HMAC(case address key, SHA-256(plaintext))`` (see
:meth:`CaseKeyring.address`): equal files in a case share one blob, yet nobody holding only
the files can test whether a known document is among them. The SHA-256 of the ciphertext
is recorded too, so anyone can check a blob without a key (``tidetrace verify``).

File layout::

    b"TTVB" | 0x01 | u16 len | wrapped file key | secretstream header (24) |
    { u32 len | encrypted chunk } ... (last chunk tagged FINAL)
"""

import hashlib
import os
import secrets
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from nacl import bindings
from nacl.exceptions import CryptoError
from sqlalchemy import Connection, select

from tidetrace.exc import TidetraceError
from tidetrace.vault.cases import CaseKeyring
from tidetrace.vault.crypto import DecryptionError, day_now
from tidetrace.vault.tables import blob_table
from tidetrace.workspace import Workspace

__all__ = [
    "CHUNK",
    "BlobCorrupt",
    "BlobRef",
    "BlobStore",
    "Writable",
    "discard_unrecorded",
    "record_blob",
    "scratch_dir",
]

MAGIC = b"TTVB"
FORMAT = 1
CHUNK = 64 * 1024
_ABYTES = bindings.crypto_secretstream_xchacha20poly1305_ABYTES
_HEADERBYTES = bindings.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE = bindings.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = bindings.crypto_secretstream_xchacha20poly1305_TAG_FINAL
_LEN = struct.Struct(">I")
_WRAPPED_LEN = struct.Struct(">H")
# Scratch files of plaintext (working copies, video frames) go to RAM below this size.
SHM_LIMIT = 512 * 1024 * 1024


class Writable(Protocol):
    """Anything with ``write(bytes)``: a file, a response stream, a hashing sink."""

    def write(self, data: bytes, /) -> object:
        """Write ``data``."""


class BlobCorrupt(DecryptionError):
    """A blob is missing, truncated, altered, or not a vault blob."""


@dataclass(frozen=True)
class BlobRef:
    """What storing a file produced.

    Attributes:
        address: the blob's address within its case.
        sha256: SHA-256 of the plaintext (keep it only inside encrypted metadata).
        size: plaintext size in bytes.
        ct_sha256: SHA-256 of the stored (encrypted) file, safe to keep in the clear.
        ct_size: size of the stored file.
    """

    address: str
    sha256: str
    size: int
    ct_sha256: str
    ct_size: int


class _HashingWriter:
    """Writes to a file while hashing what was written."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.fh.write(data)
        self.hash.update(data)
        self.size += len(data)


def _chunks(source: BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut any byte source into CHUNK-sized pieces (the last may be shorter or empty)."""
    if hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        while True:
            block = reader.read(CHUNK)
            if not block:
                return
            yield block
        return
    pending = bytearray()
    for piece in source:
        pending += piece
        while len(pending) >= CHUNK:
            yield bytes(pending[:CHUNK])
            del pending[:CHUNK]
    if pending:
        yield bytes(pending)


class BlobStore:
    """Encrypted blobs of every case under one directory.

    Args:
        root: where blobs live (``<workspace>/blobs/vault``).
        tmp: scratch directory on the same file system (for atomic renames).
    """

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.tmp = tmp

    @classmethod
    def for_workspace(cls, ws: Workspace) -> "BlobStore":
        """The workspace's vault blob store."""
        return cls(ws.blob_dir / "vault", ws.tmp_dir)

    def path(self, case_id: str, address: str) -> Path:
        """Where a blob is kept: ``<root>/<case>/<aa>/<address>``."""
        if len(address) != 64 or not all(c in "0123456789abcdef" for c in address):
            raise TidetraceError(f"not a blob address: {address!r}")
        return self.root / case_id / address[:2] / address

    def case_files(self, case_id: str) -> Iterator[Path]:
        """Every blob file stored for a case (for verification)."""
        base = self.root / case_id
        if base.is_dir():
            yield from sorted(p for p in base.glob("*/*") if p.is_file())

    def put(
        self,
        keyring: CaseKeyring,
        source: BinaryIO | Iterable[bytes],
        max_bytes: int | None = None,
    ) -> BlobRef:
        """Encrypt ``source`` into the store, streaming, and return its reference.

        Args:
            keyring: the case's keys.
            source: a binary file object or an iterable of byte strings.
            max_bytes: refuse sources larger than this.

        Raises:
            TidetraceError: the source is larger than ``max_bytes``.
        """
        self.tmp.mkdir(parents=True, exist_ok=True)
        file_key = bindings.crypto_secretstream_xchacha20poly1305_keygen()
        wrapped = keyring.file_key_wrap(file_key, "blob")
        state = bindings.crypto_secretstream_xchacha20poly1305_state()
        header = bindings.crypto_secretstream_xchacha20poly1305_init_push(state, file_key)
        plain_hash = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="blob-", suffix=".part")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as raw:
                out = _HashingWriter(raw)
                out.write(MAGIC + bytes([FORMAT]) + _WRAPPED_LEN.pack(len(wrapped)) + wrapped)
                out.write(header)
                # One chunk of look-ahead, so the last chunk can carry the FINAL tag.
                previous: bytes | None = None
                for chunk in _chunks(source):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise TidetraceError(f"larger than the {max_bytes}-byte limit")
                    plain_hash.update(chunk)
                    if previous is not None:
                        self._push(out, state, previous, _TAG_MESSAGE)
                    previous = chunk
                self._push(out, state, previous or b"", _TAG_FINAL)
                raw.flush()
                os.fsync(raw.fileno())
            digest = plain_hash.digest()
            address = keyring.address(digest)
            target = self.path(keyring.case_id, address)
            if target.exists():
                # Same content already stored: keep the first copy (its header and key).
                tmp_path.unlink()
                ct_sha, ct_size = file_sha256(target)
                return BlobRef(address, digest.hex(), size, ct_sha, ct_size)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
            return BlobRef(address, digest.hex(), size, out.hash.hexdigest(), out.size)
        finally:
            if tmp_path.exists():
                tmp_path.unlink()

    @staticmethod
    def _push(out: _HashingWriter, state: object, chunk: bytes, tag: int) -> None:
        encrypted = bindings.crypto_secretstream_xchacha20poly1305_push(
            state,  # type: ignore[arg-type]
            chunk,
            None,
            tag,
        )
        out.write(_LEN.pack(len(encrypted)) + encrypted)

    def put_bytes(self, keyring: CaseKeyring, data: bytes) -> BlobRef:
        """:meth:`put` for bytes already in memory (small things: text extractions)."""
        return self.put(keyring, [data])

    def put_file(self, keyring: CaseKeyring, path: Path, max_bytes: int | None = None) -> BlobRef:
        """:meth:`put` for a file on disk."""
        with open(path, "rb") as fh:
            return self.put(keyring, fh, max_bytes=max_bytes)

    def read(self, keyring: CaseKeyring, address: str) -> Iterator[bytes]:
        """Decrypt a blob chunk by chunk.

        Raises:
            BlobCorrupt: missing, altered, reordered, truncated or extended.
        """
        path = self.path(keyring.case_id, address)
        if not path.is_file():
            raise BlobCorrupt(f"blob {address[:12]}… is missing")
        with open(path, "rb") as fh:
            head = fh.read(len(MAGIC) + 1 + _WRAPPED_LEN.size)
            if len(head) < 7 or head[:4] != MAGIC or head[4] != FORMAT:
                raise BlobCorrupt(f"blob {address[:12]}… is not a vault blob")
            (wrapped_len,) = _WRAPPED_LEN.unpack(head[5:7])
            wrapped = fh.read(wrapped_len)
            try:
                file_key = keyring.file_key_unwrap(wrapped, "blob")
            except DecryptionError:
                raise BlobCorrupt(f"blob {address[:12]}…: its key does not open") from None
            header = fh.read(_HEADERBYTES)
            state = bindings.crypto_secretstream_xchacha20poly1305_state()
            try:
                bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, header, file_key)
            except (CryptoError, ValueError):
                raise BlobCorrupt(f"blob {address[:12]}…: damaged header") from None
            while True:
                size_bytes = fh.read(_LEN.size)
                if len(size_bytes) < _LEN.size:
                    raise BlobCorrupt(f"blob {address[:12]}… is truncated")
                (length,) = _LEN.unpack(size_bytes)
                if length > CHUNK + _ABYTES:
                    raise BlobCorrupt(f"blob {address[:12]}…: damaged chunk length")
                encrypted = fh.read(length)
                try:
                    chunk, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(
                        state, encrypted, None
                    )
                except (CryptoError, ValueError):
                    raise BlobCorrupt(f"blob {address[:12]}… was altered") from None
                if chunk:
                    yield bytes(chunk)
                if tag == _TAG_FINAL:
                    if fh.read(1):
                        raise BlobCorrupt(f"blob {address[:12]}… has data after its end")
                    return

    def read_all(self, keyring: CaseKeyring, address: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """A whole (small) blob in memory.

        Raises:
            TidetraceError: larger than ``limit``.
        """
        out = bytearray()
        for chunk in self.read(keyring, address):
            out += chunk
            if len(out) > limit:
                raise TidetraceError(f"blob larger than {limit} bytes; stream it instead")
        return bytes(out)

    def write_to(self, keyring: CaseKeyring, address: str, dest: Writable) -> str:
        """Decrypt a blob into ``dest``; returns the SHA-256 of what was written."""
        digest = hashlib.sha256()
        for chunk in self.read(keyring, address):
            digest.update(chunk)
            dest.write(chunk)
        return digest.hexdigest()

    def delete(self, case_id: str, address: str) -> None:
        """Remove a blob file (a purge; the caller logs it)."""
        path = self.path(case_id, address)
        if path.exists():
            path.unlink()


def file_sha256(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, streamed."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def record_blob(conn: Connection, case_id: str, ref: BlobRef) -> None:
    """Register a stored blob in the database (once per address)."""
    exists = conn.execute(
        select(blob_table.c.address).where(
            blob_table.c.case_id == case_id, blob_table.c.address == ref.address
        )
    ).first()
    if exists is None:
        conn.execute(
            blob_table.insert().values(
                case_id=case_id,
                address=ref.address,
                ct_size=ref.ct_size,
                ct_sha256=ref.ct_sha256,
                created_day=day_now(),
            )
        )


def discard_unrecorded(
    store: BlobStore, conn: Connection, case_id: str, addresses: list[str]
) -> None:
    """Delete blob files that no database row records (a capture that failed half-way).

    Without this, a failed capture would leave files that ``verify`` rightly reports as
    inserted. Blobs shared with earlier items are recorded, so they stay.
    """
    for address in addresses:
        recorded = conn.execute(
            select(blob_table.c.address).where(
                blob_table.c.case_id == case_id, blob_table.c.address == address
            )
        ).first()
        if recorded is None:
            store.delete(case_id, address)


@contextmanager
def scratch_dir(ws: Workspace, size_hint: int = 0) -> Iterator[Path]:
    """A private directory for plaintext scratch files, removed afterwards.

    Plaintext never lands in the blob area. Small jobs use ``/dev/shm`` (RAM) so nothing
    is left on a disk; large ones use the workspace's tmp directory.
    """
    shm = Path("/dev/shm")  # noqa: S108 - a private 0700 directory inside it
    base = shm if size_hint < SHM_LIMIT and shm.is_dir() and os.access(shm, os.W_OK) else None
    if base is None:
        ws.tmp_dir.mkdir(parents=True, exist_ok=True)
        base = ws.tmp_dir
    path = Path(tempfile.mkdtemp(prefix="tidetrace-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def random_name() -> str:
    """A random file name for scratch files (never the evidence's own name)."""
    return secrets.token_hex(8)
