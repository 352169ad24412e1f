"""What a file really is, from its first bytes — never from its name.

A leaked "invoice.jpg" may be a PDF, an executable or a zip bomb; stripping and previewing
follow the content, and a name that disagrees is recorded as a warning on the item.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FileType", "extension_warning", "sniff_bytes", "sniff_path"]

HEAD = 8192


@dataclass(frozen=True)
class FileType:
    """A detected file type.

    Attributes:
        mime: the media type, e.g. ``image/jpeg``.
        family: ``image``, ``pdf``, ``video``, ``audio``, ``office``, ``archive``, ``html``,
            ``text``, ``warc``, ``executable`` or ``unknown``.
        extensions: file name endings this type normally has.
    """

    mime: str
    family: str
    extensions: tuple[str, ...]

    @property
    def extension(self) -> str:
        """The usual extension, with the dot ("" when none)."""
        return self.extensions[0] if self.extensions else ""


UNKNOWN = FileType("application/octet-stream", "unknown", ())
EMPTY = FileType("application/x-empty", "unknown", ())

_VIDEO_BRANDS = {
    b"qt  ": FileType("video/quicktime", "video", (".mov", ".qt")),
    b"3gp4": FileType("video/3gpp", "video", (".3gp",)),
    b"3gp5": FileType("video/3gpp", "video", (".3gp",)),
    b"3g2a": FileType("video/3gpp2", "video", (".3g2",)),
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_MP4 = FileType("video/mp4", "video", (".mp4", ".m4v"))
_M4A = FileType("audio/mp4", "audio", (".m4a",))


def _ftyp(head: bytes) -> FileType | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _HEIF_BRANDS:
        return FileType("image/heic", "image", (".heic", ".heif", ".avif"))
    if brand in _VIDEO_BRANDS:
        return _VIDEO_BRANDS[brand]
    if brand in (b"M4A ", b"M4B "):
        return _M4A
    return _MP4


def _zip_type(path: Path | None) -> FileType:
    generic = FileType("application/zip", "archive", (".zip",))
    if path is None:
        return generic
    try:
        # Only the central directory is read: nothing is decompressed here.
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return generic
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return FileType(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "office",
                (".docx",),
            )
        if any(n.startswith("xl/") for n in names):
            return FileType(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "office",
                (".xlsx",),
            )
        if any(n.startswith("ppt/") for n in names):
            return FileType(
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "office",
                (".pptx",),
            )
    if "mimetype" in names and "content.xml" in names:
        return FileType("application/vnd.oasis.opendocument", "office", (".odt", ".ods", ".odp"))
    return generic


def sniff_bytes(head: bytes, path: Path | None = None) -> FileType:
    """The type of a file whose first bytes are ``head`` (``path`` helps tell zips apart)."""
    if not head:
        return EMPTY
    if head.startswith(b"\xff\xd8\xff"):
        return FileType("image/jpeg", "image", (".jpg", ".jpeg"))
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image/png", "image", (".png",))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileType("image/gif", "image", (".gif",))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType("image/webp", "image", (".webp",))
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return FileType("image/tiff", "image", (".tif", ".tiff"))
    if head[:2] == b"BM" and len(head) > 14:
        return FileType("image/bmp", "image", (".bmp",))
    if b"%PDF-" in head[:1024]:
        return FileType("application/pdf", "pdf", (".pdf",))
    found = _ftyp(head)
    if found is not None:
        return found
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return FileType("video/quicktime", "video", (".mov",))
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        if b"webm" in head[:64]:
            return FileType("video/webm", "video", (".webm",))
        return FileType("video/x-matroska", "video", (".mkv",))
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return FileType("video/x-msvideo", "video", (".avi",))
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return FileType("audio/wav", "audio", (".wav",))
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return FileType("audio/mpeg", "audio", (".mp3",))
    if head.startswith(b"OggS"):
        return FileType("audio/ogg", "audio", (".ogg", ".opus"))
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_type(path)
    if head.startswith(b"\x1f\x8b"):
        return FileType("application/gzip", "archive", (".gz",))
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return FileType("application/x-7z-compressed", "archive", (".7z",))
    if head.startswith(b"Rar!\x1a\x07"):
        return FileType("application/vnd.rar", "archive", (".rar",))
    if head.startswith(b"\x7fELF") or head.startswith(b"MZ"):
        return FileType("application/x-executable", "executable", (".exe", ".elf", ".bin"))
    if head.startswith(b"WARC/1."):
        return FileType("application/warc", "warc", (".warc",))
    if b"\x00" not in head:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            # A multi-byte character cut at the end of the sample is still text.
            try:
                text = head[:-3].decode("utf-8")
            except UnicodeDecodeError:
                return UNKNOWN
        start = text.lstrip("\ufeff \t\r\n").lower()
        if start.startswith(("<!doctype html", "<html")) or "<html" in start[:512]:
            return FileType("text/html", "html", (".html", ".htm"))
        return FileType("text/plain", "text", (".txt", ".md", ".csv"))
    return UNKNOWN


def sniff_path(path: Path) -> FileType:
    """The type of the file at ``path``, from its content."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD)
    return sniff_bytes(head, path)


def extension_warning(name: str, detected: FileType) -> str | None:
    """A warning when the name's extension disagrees with the content, else None."""
    suffix = Path(name).suffix.lower()
    if not suffix or not detected.extensions or suffix in detected.extensions:
        return None
    return (
        f"the name ends in {suffix} but the content is {detected.mime}: "
        "handled as its content, not its name"
    )
