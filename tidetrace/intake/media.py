"""Photographed pages and tip files: real type from content, metadata stripped, optional OCR.

Plaintext never reaches a disk here: the vault's stripper works on files, so they go to
the vault's private scratch directory (``/dev/shm``, RAM, 0700, removed afterwards), and
tesseract reads the image on stdin and writes text on stdout.
"""

import subprocess
from dataclasses import dataclass, field
from functools import lru_cache

from tidetrace.exc import TidetraceError
from tidetrace.vault.blobs import random_name, scratch_dir
from tidetrace.vault.sniff import FileType, sniff_bytes
from tidetrace.vault.strip import StripError, make_working_copy
from tidetrace.workspace import Workspace

__all__ = ["MediaError", "Stripped", "ocr_image", "strip_file", "strip_photo", "tesseract_version"]

OCR_TIMEOUT = 120
MIB = 1024 * 1024


class MediaError(TidetraceError):
    """A file was refused: too large, not what it must be, or unreadable."""

    STATUS = 422


@dataclass(frozen=True)
class Stripped:
    """A file and its metadata-free working copy, both still only in memory.

    Attributes:
        original: the bytes as received.
        working: the copy without metadata (None when no stripper exists for the type).
        ftype: the type detected from the content.
        working_mime: the working copy's media type.
        tool: what stripped it, with version.
        removed: kinds of metadata found and removed (names, never values).
    """

    original: bytes = field(repr=False)
    working: bytes | None = field(repr=False)
    ftype: FileType
    working_mime: str
    tool: str
    removed: list[str]


def _check_size(data: bytes, max_bytes: int, what: str) -> None:
    if not data:
        raise MediaError(f"the {what} is empty")
    if len(data) > max_bytes:
        raise MediaError(
            f"the {what} is {len(data) / MIB:.1f} MiB; the limit is {max_bytes / MIB:.0f} MiB"
        )


def strip_file(ws: Workspace, data: bytes, max_bytes: int, *, images_only: bool) -> Stripped:
    """Detect the type of ``data`` and make a working copy without metadata.

    Args:
        ws: the workspace (its scratch directory is the fallback when RAM is not usable).
        data: the file.
        max_bytes: refuse larger files.
        images_only: refuse anything but images (photographed pages).

    Raises:
        MediaError: too large, empty, not an image when one is required, or unreadable.
    """
    what = "photo" if images_only else "file"
    _check_size(data, max_bytes, what)
    ftype = sniff_bytes(data[:8192])
    if images_only and ftype.family != "image":
        raise MediaError(f"a photo must be an image; this {what} is {ftype.mime}")
    if ftype.mime == "image/heic":
        raise MediaError("HEIC photos cannot be stripped of their metadata: send JPEG or PNG")
    with scratch_dir(ws, len(data)) as scratch:
        source = scratch / random_name()
        source.write_bytes(data)
        try:
            result = make_working_copy(source, scratch, ftype)
        except StripError as exc:
            if images_only or ftype.family in ("image", "pdf"):
                raise MediaError(f"the {what} could not be cleaned: {exc.detail}") from None
            # Other files (text, audio …) are kept sealed as received, marked unstripped.
            return Stripped(data, None, ftype, ftype.mime, "none", [])
        working = result.path.read_bytes()
    return Stripped(data, working, ftype, result.mime, result.tool, result.removed)


def strip_photo(ws: Workspace, data: bytes, max_bytes: int) -> Stripped:
    """:func:`strip_file` for a photographed page (images only)."""
    return strip_file(ws, data, max_bytes, images_only=True)


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """``tesseract 5.3.0`` or similar (raises MediaError when tesseract is missing)."""
    try:
        out = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise MediaError("tesseract is not installed (Debian tesseract-ocr-kor)") from None
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "tesseract"


def ocr_image(image: bytes, language: str = "ko") -> str:
    """A draft transcription of a photographed page, for a person to correct.

    Args:
        image: the (metadata-free) image.
        language: ``ko``, ``zh`` or ``en`` (tesseract ``kor``, ``chi_sim``, ``eng``).

    Raises:
        MediaError: tesseract is missing or failed.
    """
    # One script at a time: "kor+eng" misreads Hangul as Latin letters on clean pages.
    lang = {"ko": "kor", "zh": "chi_sim", "en": "eng"}.get(language, "kor")
    tesseract_version()
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", lang, "--psm", "6"],
            input=image,
            capture_output=True,
            timeout=OCR_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MediaError("OCR took too long on this page") from None
    if done.returncode != 0:
        raise MediaError("OCR failed on this page (is tesseract-ocr-kor installed?)")
    return done.stdout.decode("utf-8", errors="replace").strip()
