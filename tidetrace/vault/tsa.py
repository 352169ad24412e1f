"""RFC 3161 timestamps from a configurable timestamp authority, through the ``openssl`` CLI.

A hash chain cannot show that its tail was cut off or rewritten by someone who recomputes
it. A timestamp token over the log head can: the TSA signs "this digest existed at time T",
and the token lives on outside our control (in exported bundles, at the TSA). Requests and
verification use ``openssl ts`` (Debian's openssl 3), the same tool a court expert or the
bundle's verify script uses; no ASN.1 code of our own.
"""

import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from tidetrace.exc import TidetraceError

__all__ = ["TokenInfo", "TsaError", "request_token", "token_info", "verify_token"]

MAX_RESPONSE = 1024 * 1024
TIMEOUT = 30.0


class TsaError(TidetraceError):
    """The timestamp authority could not be reached, refused, or sent a bad token."""

    STATUS = 502


@dataclass(frozen=True)
class TokenInfo:
    """What a timestamp response says.

    Attributes:
        granted: the TSA granted the request.
        gen_time: when the TSA says it timestamped, ISO 8601 UTC.
        digest: the message imprint it timestamped (hex).
        serial: the token's serial number.
        nonce: the request's nonce the TSA echoed ("" when none).
    """

    granted: bool
    gen_time: str
    digest: str
    serial: str
    nonce: str


def _openssl(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["openssl", "ts", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise TsaError("openssl is not installed (Debian package 'openssl')") from None


def _check_digest(digest_hex: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", digest_hex):
        raise TsaError("a timestamp digest is 64 lowercase hex characters (SHA-256)")
    return digest_hex


def request_token(url: str, digest_hex: str, timeout: float = TIMEOUT) -> bytes:
    """Ask the TSA at ``url`` to timestamp a SHA-256 digest; returns the DER response.

    The request asks for the TSA's certificate in the token and carries a nonce, which
    is checked against the response.

    Raises:
        TsaError: unreachable, refused, or an answer that is not a granted token for it.
    """
    _check_digest(digest_hex)
    with tempfile.TemporaryDirectory(prefix="tidetrace-tsa-") as tmp:
        query = Path(tmp) / "request.tsq"
        made = _openssl(["-query", "-digest", digest_hex, "-sha256", "-cert", "-out", str(query)])
        if made.returncode != 0:
            raise TsaError(f"openssl could not build a timestamp request: {made.stderr.strip()}")
        try:
            response = httpx.post(
                url,
                content=query.read_bytes(),
                headers={"Content-Type": "application/timestamp-query"},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise TsaError(f"timestamp authority {url} unreachable: {exc}") from None
        if response.status_code != 200:
            raise TsaError(f"timestamp authority {url} answered HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE:
            raise TsaError("timestamp response too large")
        asked = _openssl(["-query", "-in", str(query), "-text"])
        nonce = _NONCE.search(asked.stdout)
        # The imprint and nonce show the reply answers this request; the TSA's signature is
        # checked against the configured CA by verify_token.
        info = token_info(response.content)
        if not info.granted:
            raise TsaError(f"timestamp authority {url} did not grant the request")
        if info.digest != digest_hex:
            raise TsaError("the timestamp token is for another digest")
        if nonce is not None and nonce.group(1).strip() != info.nonce:
            raise TsaError("the timestamp token answers another request (nonce)")
        return response.content


_TIME = re.compile(r"^Time stamp: (.+)$", re.MULTILINE)
_SERIAL = re.compile(r"^Serial number: (.+)$", re.MULTILINE)
_NONCE = re.compile(r"^Nonce: (.+)$", re.MULTILINE)
_STATUS = re.compile(r"^Status: (.+)$", re.MULTILINE)
_HEXLINE = re.compile(r"^\s*[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]?)+)", re.MULTILINE)


def token_info(token: bytes) -> TokenInfo:
    """Read a timestamp response (``openssl ts -reply -text``).

    Raises:
        TsaError: not a timestamp response.
    """
    with tempfile.TemporaryDirectory(prefix="tidetrace-tsa-") as tmp:
        path = Path(tmp) / "reply.tsr"
        path.write_bytes(token)
        shown = _openssl(["-reply", "-in", str(path), "-text"])
    text = shown.stdout
    if shown.returncode != 0 or "TST info" not in text:
        raise TsaError("not a timestamp response")
    status = _STATUS.search(text)
    when = _TIME.search(text)
    serial = _SERIAL.search(text)
    imprint_block = text.split("Message data:", 1)[1].split("Serial number:", 1)[0]
    digest = "".join(
        m.group(1).replace("-", " ").replace(" ", "") for m in _HEXLINE.finditer(imprint_block)
    )
    gen_time = ""
    if when is not None:
        raw = " ".join(when.group(1).replace(" GMT", "").split())
        for fmt in ("%b %d %H:%M:%S.%f %Y", "%b %d %H:%M:%S %Y"):
            try:
                gen_time = datetime.strptime(raw, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
                break
            except ValueError:
                continue
    return TokenInfo(
        granted=status is not None and status.group(1).strip().startswith("Granted"),
        gen_time=gen_time,
        digest=digest,
        serial=serial.group(1).strip() if serial is not None else "",
        nonce=nonce.group(1).strip() if (nonce := _NONCE.search(text)) is not None else "",
    )


def verify_token(token: bytes, digest_hex: str, ca_file: Path) -> tuple[bool, str]:
    """Verify a timestamp response over ``digest_hex`` against the TSA's CA certificate.

    Returns:
        (True, "") when ``openssl ts -verify`` accepts it, else (False, why).
    """
    from tidetrace.vault.bundle_verify import openssl_verify_token

    _check_digest(digest_hex)
    if not ca_file.is_file():
        return False, f"TSA CA file {ca_file} not found"
    with tempfile.TemporaryDirectory(prefix="tidetrace-tsa-") as tmp:
        path = Path(tmp) / "reply.tsr"
        path.write_bytes(token)
        ok, message = openssl_verify_token(path, digest_hex, ca_file)
    return ok, "" if ok else message
