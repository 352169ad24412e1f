"""Small cryptographic building blocks every vault module shares (libsodium via PyNaCl).

One AEAD everywhere: XChaCha20-Poly1305 (IETF), random 192-bit nonces, so nonces never need
a counter or a database. Every sealed value carries a format byte and the key version, and
is bound by its associated data to where it is stored (table, row id, column), so a
ciphertext moved to another row or case fails to open instead of showing the wrong text.
"""

import hashlib
import json
import secrets
import struct
from datetime import UTC, datetime
from typing import Any

from nacl import bindings
from nacl.encoding import RawEncoder
from nacl.exceptions import CryptoError
from nacl.hash import blake2b

from tidetrace.exc import TidetraceError

__all__ = [
    "FORMAT",
    "KEY_BYTES",
    "DecryptionError",
    "aad",
    "canonical_json",
    "day_now",
    "derive_subkey",
    "new_id",
    "now_iso",
    "open_sealed",
    "seal",
    "sealed_version",
    "sha256_hex",
]

FORMAT = 1
KEY_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_HEADER = struct.Struct(">BI")  # format, key version


class DecryptionError(TidetraceError):
    """A ciphertext did not open: wrong key, wrong place, or altered."""

    STATUS = 422


def seal(key: bytes, version: int, plaintext: bytes, associated: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``; ``associated`` is authenticated, not stored.

    Args:
        key: a 32-byte key.
        version: the key version, stored in the clear so the reader picks the right key.
        plaintext: what to hide.
        associated: context the ciphertext is bound to (see :func:`aad`).

    Returns:
        ``format | version | nonce | ciphertext+tag``.
    """
    header = _HEADER.pack(FORMAT, version)
    nonce = secrets.token_bytes(NONCE_BYTES)
    body = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, header + associated, nonce, key
    )
    return header + nonce + body


def sealed_version(sealed: bytes) -> int:
    """The key version a sealed value was made with.

    Raises:
        DecryptionError: not a sealed value of a known format.
    """
    if len(sealed) < _HEADER.size + NONCE_BYTES or sealed[0] != FORMAT:
        raise DecryptionError("not a sealed value of a known format")
    return int(_HEADER.unpack_from(sealed)[1])


def open_sealed(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    """Decrypt a value made by :func:`seal` with the same key and associated data.

    Raises:
        DecryptionError: wrong key, wrong associated data, or altered bytes.
    """
    sealed_version(sealed)
    header = sealed[: _HEADER.size]
    nonce = sealed[_HEADER.size : _HEADER.size + NONCE_BYTES]
    try:
        return bytes(
            bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed[_HEADER.size + NONCE_BYTES :], header + associated, nonce, key
            )
        )
    except CryptoError:
        raise DecryptionError("a sealed value does not open: altered, or moved") from None


def aad(*parts: str | int) -> bytes:
    """Associated data from labelled parts, unambiguous whatever the parts contain."""
    return canonical_json(["tidetrace-vault", *parts])


def derive_subkey(key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, so one secret never serves two algorithms.

    This is libsodium's ``crypto_kdf`` construction (keyed BLAKE2b with a personalisation),
    which PyNaCl does not expose directly.

    Args:
        key: the parent key (32 bytes).
        purpose: up to 16 bytes naming the use, e.g. ``b"tt.record"``.
    """
    if len(purpose) > 16:
        raise ValueError("purpose is at most 16 bytes")
    return bytes(
        blake2b(b"", digest_size=32, key=key, person=purpose.ljust(16, b"\0"), encoder=RawEncoder)
    )


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON value that gets hashed, signed or bound: sorted keys,
    no spaces, UTF-8. ``bundle_verify.canonical`` must stay byte-identical.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def new_id(prefix: str) -> str:
    """A random id (80 bits), e.g. ``ev-3k4j…``: ids reveal nothing and cannot be guessed."""
    return f"{prefix}-{secrets.token_hex(10)}"


def now_iso() -> str:
    """Now in UTC, to the second, ISO 8601 with ``Z``."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day_now() -> str:
    """Today in UTC (the only time granularity stored in the clear)."""
    return datetime.now(UTC).strftime("%Y-%m-%d")
