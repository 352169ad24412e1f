"""Working copies without metadata: the file to share, while the original stays sealed.

Images lose EXIF (GPS, camera serial), XMP, IPTC, comments and text chunks (Pillow); PDFs
lose the document information dictionary and every XMP stream (pikepdf); videos lose
container and stream metadata, chapters and data tracks such as location tracks, by
stream copy without re-encoding (``ffmpeg -map_metadata -1 -c copy``); Office documents
lose ``docProps`` (author, company, edit times). Each copy is checked again after it is
written (:func:`residual_metadata`) and refused if anything is left.

Types without a stripper get no working copy: the item says so instead of sharing a file
that may still carry who made it, where.
"""

import io
import json
import platform
import subprocess
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pikepdf
from PIL import Image, ImageCms, ImageOps
from PIL import __version__ as pillow_version

from tidetrace.exc import TidetraceError
from tidetrace.vault.sniff import FileType, sniff_path

__all__ = [
    "MAX_PIXELS",
    "StripError",
    "StripResult",
    "make_working_copy",
    "residual_metadata",
]

# Images larger than this are refused (decompression bombs); 200 megapixels covers
# satellite scenes cut for a report and any phone camera.
MAX_PIXELS = 200_000_000
# An Office file expanding beyond this, or beyond this ratio, is treated as a zip bomb.
MAX_UNZIPPED = 512 * 1024 * 1024
MAX_RATIO = 200
FFMPEG_TIMEOUT = 3600
# Image info keys that describe pixels, not the person or device: kept.
_KEEP_INFO = ("transparency", "duration", "loop", "background", "dpi")
# Tags ffmpeg itself writes or that describe codecs; anything else in a copy is residue.
_ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}
_ALLOWED_STREAM_TAGS = {"handler_name", "vendor_id", "language", "encoder"}
_OFFICE_DROP = ("docProps/",)
_OFFICE_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties"/>'
)


class StripError(TidetraceError):
    """A working copy could not be made safely (unreadable file, bomb, leftover metadata)."""

    STATUS = 422


@dataclass(frozen=True)
class StripResult:
    """A working copy and how it was made.

    Attributes:
        path: the working copy (in the caller's scratch directory).
        mime: its media type.
        tool: the tool and version that made it, e.g. ``Pillow 13.0.0``.
        removed: what kinds of metadata were found and removed (names, never values).
        notes: anything a reviewer should know (re-encoded, colour profile converted …).
    """

    path: Path
    mime: str
    tool: str
    removed: list[str]
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version``, e.g. ``ffmpeg version 5.1.9-0+deb12u1``."""
    try:
        out = subprocess.run(
            ["ffmpeg", "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise StripError("ffmpeg is not installed (Debian package 'ffmpeg')") from None
    first = out.stdout.splitlines()[0] if out.stdout else "ffmpeg"
    return " ".join(first.split()[:3])


# --- Images -------------------------------------------------------------------------------


def _image_metadata(im: Image.Image) -> list[str]:
    found = []
    exif = im.getexif()
    if exif or im.info.get("exif"):
        found.append("EXIF")
        if exif.get_ifd(0x8825) or 0x8825 in exif:
            found.append("EXIF GPS")
        if any(tag in exif.get_ifd(0x8769) for tag in (0xA431, 0xA435)) or any(
            tag in exif for tag in (0xA431, 0xA435)
        ):
            found.append("EXIF serial numbers")
    if im.info.get("xmp") or im.info.get("XML:com.adobe.xmp"):
        found.append("XMP")
    if im.info.get("icc_profile"):
        found.append("ICC profile")
    if im.info.get("comment"):
        found.append("comment")
    if "photoshop" in im.info or im.info.get("iptc"):
        found.append("IPTC/Photoshop")
    text_chunks = getattr(im, "text", None)
    if isinstance(text_chunks, dict) and text_chunks:
        found.append("text chunks")
    return found


def _strip_image(source: Path, out_dir: Path, ftype: FileType) -> StripResult:
    notes: list[str] = []
    try:
        with Image.open(source) as im:
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise StripError(
                    f"image of {width}×{height} pixels is over the {MAX_PIXELS:,}-pixel limit "
                    "(possible decompression bomb)"
                )
            fmt = im.format or "PNG"
            removed = _image_metadata(im)
            frames = getattr(im, "n_frames", 1)
            im.load()
            keep_jpeg = fmt == "JPEG" and im.getexif().get(0x0112, 1) in (1, None)
            icc = im.info.get("icc_profile")
            clean = ImageOps.exif_transpose(im) if not keep_jpeg else im
            if clean is not im and not keep_jpeg:
                notes.append("rotated as its EXIF orientation said, before EXIF was removed")
            if icc:
                try:
                    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                    converted = ImageCms.profileToProfile(
                        clean, profile, ImageCms.createProfile("sRGB"), outputMode=clean.mode
                    )
                    if converted is not None:
                        clean = converted
                        keep_jpeg = False
                        notes.append("colours converted to sRGB; the ICC profile was removed")
                except (ImageCms.PyCMSError, OSError, ValueError):
                    notes.append("ICC profile removed (not convertible)")
            clean.info = {k: v for k, v in im.info.items() if k in _KEEP_INFO}
            out = out_dir / f"working{ftype.extension or '.png'}"
            if fmt == "JPEG":
                if keep_jpeg:
                    # Same quantisation tables and subsampling: near-lossless re-save.
                    clean.save(out, "JPEG", quality="keep")
                else:
                    clean.save(out, "JPEG", quality=95)
                    notes.append("re-encoded as JPEG quality 95")
            elif fmt == "WEBP":
                clean.save(out, "WEBP", lossless=True)
            elif fmt == "GIF" and frames > 1:
                clean.save(out, "GIF", save_all=True)
            elif fmt in ("PNG", "GIF", "BMP", "TIFF"):
                clean.save(out, fmt)
            else:
                out = out_dir / "working.png"
                clean.save(out, "PNG")
                notes.append(f"converted from {fmt} to PNG")
    except Image.DecompressionBombError as exc:
        raise StripError(f"image refused as a possible decompression bomb: {exc}") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise StripError(f"image could not be read: {exc}") from None
    mime = "image/png" if out.suffix == ".png" else ftype.mime
    return StripResult(out, mime, f"Pillow {pillow_version}", removed, notes)


# --- PDF ----------------------------------------------------------------------------------


def _strip_pdf(source: Path, out_dir: Path) -> StripResult:
    removed: list[str] = []
    out = out_dir / "working.pdf"
    try:
        with pikepdf.open(source) as pdf:
            if "/Info" in pdf.trailer:
                keys = sorted(str(k).lstrip("/") for k in pdf.trailer.Info)
                if keys:
                    removed.append("document info (" + ", ".join(keys) + ")")
                del pdf.trailer["/Info"]
            xmp = 0
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    for key in ("/Metadata", "/PieceInfo"):
                        if key in obj:
                            del obj[key]
                            xmp += 1
            if xmp:
                removed.append(f"XMP metadata / PieceInfo ({xmp})")
            # A full rewrite drops earlier incremental revisions (and their metadata);
            # a deterministic /ID carries no creation time or path.
            pdf.save(out, deterministic_id=True, fix_metadata_version=False)
    except pikepdf.PasswordError:
        raise StripError("PDF is encrypted: no working copy without its password") from None
    except pikepdf.PdfError as exc:
        raise StripError(f"PDF could not be read: {exc}") from None
    return StripResult(out, "application/pdf", f"pikepdf {pikepdf.__version__}", removed)


# --- Video --------------------------------------------------------------------------------

_MUXERS = {
    "video/mp4": ("mp4", ".mp4"),
    "video/quicktime": ("mov", ".mov"),
    "video/3gpp": ("3gp", ".3gp"),
    "video/x-matroska": ("matroska", ".mkv"),
    "video/webm": ("webm", ".webm"),
    "video/x-msvideo": ("avi", ".avi"),
}


def _probe(path: Path) -> dict[str, object]:
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except FileNotFoundError:
        raise StripError("ffprobe is not installed (Debian package 'ffmpeg')") from None
    if out.returncode != 0:
        raise StripError(f"video could not be read: {out.stderr.strip()[:200]}")
    data: dict[str, object] = json.loads(out.stdout or "{}")
    return data


def _video_tags(info: dict[str, object]) -> tuple[dict[str, str], list[dict[str, str]]]:
    fmt = info.get("format")
    format_tags = dict(fmt.get("tags") or {}) if isinstance(fmt, dict) else {}
    streams = info.get("streams")
    stream_tags = (
        [dict(s.get("tags") or {}) for s in streams if isinstance(s, dict)]
        if isinstance(streams, list)
        else []
    )
    return format_tags, stream_tags


def _strip_video(source: Path, out_dir: Path, ftype: FileType) -> StripResult:
    muxer, ext = _MUXERS.get(ftype.mime, ("mp4", ".mp4"))
    before_format, before_streams = _video_tags(_probe(source))
    removed = sorted(
        {k for k in before_format if k not in _ALLOWED_FORMAT_TAGS}
        | {k for tags in before_streams for k in tags if k not in _ALLOWED_STREAM_TAGS}
    )
    out = out_dir / f"working{ext}"
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(source),
        # Video, audio and subtitles only: data tracks (timed location, camera motion) go.
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        "-map",
        "0:s?",
        "-dn",
        "-map_metadata",
        "-1",
        "-map_metadata:s",
        "-1",
        "-map_chapters",
        "-1",
        "-c",
        "copy",
        "-fflags",
        "+bitexact",
        "-flags:v",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-f",
        muxer,
        "-y",
        str(out),
    ]
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT, check=False
        )
    except FileNotFoundError:
        raise StripError("ffmpeg is not installed (Debian package 'ffmpeg')") from None
    except subprocess.TimeoutExpired:
        raise StripError("ffmpeg took too long on this video") from None
    if done.returncode != 0 or not out.is_file():
        raise StripError(f"ffmpeg could not copy the video: {done.stderr.strip()[:300]}")
    names = [f"container tags ({', '.join(removed)})"] if removed else []
    return StripResult(
        out,
        ftype.mime,
        ffmpeg_version(),
        names,
        ["stream copy: audio and video bytes unchanged, no re-encoding"],
    )


# --- Office (OOXML / ODF) -----------------------------------------------------------------


def _strip_office(source: Path, out_dir: Path, ftype: FileType) -> StripResult:
    out = out_dir / f"working{ftype.extension}"
    removed: list[str] = []
    try:
        with zipfile.ZipFile(source) as zin:
            infos = zin.infolist()
            declared = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
            if declared > MAX_UNZIPPED or declared / packed > MAX_RATIO:
                raise StripError(
                    f"archive would expand to {declared:,} bytes ({declared // packed}× its "
                    "size): refused as a possible zip bomb"
                )
            written = 0
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in infos:
                    name = info.filename
                    if name.startswith(_OFFICE_DROP) or name in ("meta.xml", "Thumbnails/"):
                        removed.append(name)
                        if name == "docProps/core.xml":
                            zout.writestr(name, _OFFICE_CORE)
                        continue
                    if name.startswith("Thumbnails/"):
                        removed.append(name)
                        continue
                    target = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    target.compress_type = (
                        zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
                    )
                    # Sizes in the directory can lie: count what really comes out.
                    with zin.open(info) as src, zout.open(target, "w") as dst:
                        while block := src.read(1024 * 1024):
                            written += len(block)
                            if written > MAX_UNZIPPED:
                                raise StripError(
                                    "archive expands beyond its declared size: refused as a "
                                    "possible zip bomb"
                                )
                            dst.write(block)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        out.unlink(missing_ok=True)
        raise StripError(f"document could not be read as a zip archive: {exc}") from None
    except StripError:
        out.unlink(missing_ok=True)
        raise
    return StripResult(
        out,
        ftype.mime,
        f"Python zipfile {platform.python_version()}",
        [f"document properties ({', '.join(removed)})"] if removed else [],
        ["embedded objects and tracked changes are not inspected: review before sharing"],
    )


# --- Entry points -------------------------------------------------------------------------


def make_working_copy(source: Path, out_dir: Path, ftype: FileType | None = None) -> StripResult:
    """Write a metadata-free working copy of ``source`` into ``out_dir``.

    Args:
        source: the original file (left untouched).
        out_dir: a private scratch directory.
        ftype: the detected type (sniffed from the content when not given).

    Returns:
        The copy and what was removed.

    Raises:
        StripError: no stripper for this type, the file is unreadable or a bomb, or the
            copy still carries metadata.
    """
    ftype = ftype if ftype is not None else sniff_path(source)
    if ftype.family == "image" and ftype.mime != "image/heic":
        result = _strip_image(source, out_dir, ftype)
    elif ftype.family == "pdf":
        result = _strip_pdf(source, out_dir)
    elif ftype.family == "video":
        result = _strip_video(source, out_dir, ftype)
    elif ftype.family == "office" and ftype.extensions and ftype.extensions[0] != ".odt":
        result = _strip_office(source, out_dir, ftype)
    else:
        raise StripError(f"no metadata stripper for {ftype.mime}: no working copy made")
    left = residual_metadata(result.path, sniff_path(result.path))
    if left:
        result.path.unlink(missing_ok=True)
        raise StripError(f"working copy still carries metadata ({', '.join(left)}): refused")
    return result


def residual_metadata(path: Path, ftype: FileType) -> list[str]:
    """Kinds of identifying metadata still in a file (empty when clean).

    Used on every working copy before it is stored, and by the tests.
    """
    if ftype.family == "image":
        with Image.open(path) as im:
            return _image_metadata(im)
    if ftype.family == "pdf":
        left = []
        with pikepdf.open(path) as pdf:
            if "/Info" in pdf.trailer and len(pdf.trailer.Info.keys()) > 0:
                left.append("document info")
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream) and (
                    "/Metadata" in obj or "/PieceInfo" in obj
                ):
                    left.append("XMP metadata")
                    break
        return left
    if ftype.family == "video":
        format_tags, stream_tags = _video_tags(_probe(path))
        left = [k for k in format_tags if k not in _ALLOWED_FORMAT_TAGS]
        left += [k for tags in stream_tags for k in tags if k not in _ALLOWED_STREAM_TAGS]
        return sorted(set(left))
    if ftype.family == "office":
        with zipfile.ZipFile(path) as zf:
            props = [n for n in zf.namelist() if n.startswith("docProps/") or n == "meta.xml"]
            core = zf.read("docProps/core.xml") if "docProps/core.xml" in props else b""
        return [n for n in props if n != "docProps/core.xml" or core != _OFFICE_CORE.encode()]
    return []
