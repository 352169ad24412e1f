"""Read establishment codes off a photo of a package stamp with Tesseract.

The photo is decoded in memory (never written to disk), straightened and cleaned with
OpenCV, and passed to the ``tesseract`` command on its standard input. Candidate codes are
taken from each line of text, repaired for the usual OCR confusions only when the repaired
code is in the registry, and ranked by confidence. Several preprocessing variants are tried
in turn, cheapest first, until one gives a registry code read cleanly.

Pipeline per variant: grey → resize (long side ≈ 1400 px) → denoise → CLAHE (low-contrast
photos) → Otsu threshold → deskew by the angle that makes text rows sharpest (projection
profile, ±20°) → drop specks and shapes far larger than letters (the oval's border) →
``tesseract --psm 6|11 tsv``.
"""

import io
import os
import re
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from sqlalchemy import Engine

from tidetrace.exc import TidetraceError
from tidetrace.ids.establishment import EstablishmentCode, repair
from tidetrace.registry.lookup import LookupResult, Registry, lookup_parsed, parse_code
from tidetrace.registry.trade import TradeSource

__all__ = [
    "MAX_IMAGE_BYTES",
    "ImageRejected",
    "OcrCandidate",
    "OcrResult",
    "OcrUnavailable",
    "PhotoLookup",
    "lookup_photo",
    "read_stamp",
    "sniff_image",
]

# Uploads larger than this are refused before decoding.
MAX_IMAGE_BYTES = 12 * 1024 * 1024
# Decoded size limit: a phone photo is ~12-50 MP; beyond that it is a decompression bomb.
MAX_PIXELS = 60_000_000
TARGET_SIDE = 1400
TESSERACT_TIMEOUT = 12
# The whole read stops trying further variants after this many seconds: a public upload
# must not hold a CPU for minutes.
TIME_BUDGET = 15.0
# A candidate read without repairs at this confidence ends the search early.
GOOD_ENOUGH = 0.70

_MAGIC: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
]
_PIL_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
}

# Characters a code's digits come back as, and what a slash comes back as.
_DIGITISH = "0-9OoDQIl|!SsBZz"
_SLASHISH = r"/\\|lI1!"
_TOKEN = re.compile(rf"(?<![0-9])([{_DIGITISH}]{{4}} ?[{_SLASHISH}]? ?[{_DIGITISH}]{{5}})(?![0-9])")


class ImageRejected(TidetraceError):
    """The upload is not an image we read (type, size, or it does not decode)."""

    STATUS = 415


class OcrUnavailable(TidetraceError):
    """Tesseract is not installed or failed."""

    STATUS = 503


@dataclass
class OcrCandidate:
    """A code read off the photo.

    Attributes:
        code: the normalised code.
        confidence: 0-1, from Tesseract's word confidence, less for each repair, halved
            when the code is not in the registry, more when several variants agree.
        in_registry: whether any registry list has the code.
        read_as: the text Tesseract gave for it.
        changes: repairs made (e.g. ``O→0``); empty when read exactly.
        votes: how many preprocessing variants found it.
    """

    code: str
    confidence: float
    in_registry: bool
    read_as: str
    changes: list[str] = field(default_factory=list)
    votes: int = 1


@dataclass
class OcrResult:
    """What the photo gave: candidates best first, and how it was read."""

    candidates: list[OcrCandidate]
    angle: float
    variants: list[str]
    seconds: float
    image_format: str
    width: int
    height: int

    @property
    def best(self) -> OcrCandidate | None:
        """The top candidate in the registry, else the top candidate, else None."""
        listed = [c for c in self.candidates if c.in_registry]
        ranked = listed or self.candidates
        return ranked[0] if ranked else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (no image data, no OCR text beyond the candidates)."""
        return asdict(self)


def sniff_image(data: bytes) -> str | None:
    """The image type from its first bytes (not its name), or None when not an image we read."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _decode(data: bytes) -> tuple[np.ndarray[Any, Any], str, int, int]:
    """Grey pixels of an uploaded image, decoded in memory with size checks first."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected(f"image larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    kind = sniff_image(data)
    if kind is None:
        raise ImageRejected("not a JPEG, PNG, WebP, GIF, BMP or TIFF image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise ImageRejected("image has too many pixels")
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as img:
                img.seek(0)
                width, height = img.size
                # Phones store rotation in EXIF; apply it so text is upright before deskewing.
                grey = ImageOps.exif_transpose(img).convert("L")
                pixels = np.asarray(grey, dtype=np.uint8).copy()
    except ImageRejected:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as exc:
        raise ImageRejected(f"image does not decode ({type(exc).__name__})") from None
    return pixels, kind, width, height


# --- preprocessing -----------------------------------------------------------------------


def _cv2() -> Any:
    try:
        import cv2
    except ImportError:  # pragma: no cover - the 'ocr' extra
        raise OcrUnavailable("OpenCV is not installed: pip install 'tidetrace[ocr]'") from None
    return cv2


def _resize(grey: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    cv2 = _cv2()
    h, w = grey.shape
    factor = TARGET_SIDE / max(h, w)
    interp = cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA
    return np.asarray(cv2.resize(grey, None, fx=factor, fy=factor, interpolation=interp))


def _binarize(grey: np.ndarray[Any, Any], method: str = "otsu") -> np.ndarray[Any, Any]:
    """Text white on black.

    ``otsu``: blur then one global threshold, robust to grain and JPEG noise.
    ``clahe``: local contrast first, for faded or unevenly lit stamps (amplifies noise).
    ``adaptive``: a threshold per neighbourhood, for shadows across the carton.
    ``heavy``: a wide blur before Otsu, for grainy photos of small print.
    """
    cv2 = _cv2()
    smooth = cv2.GaussianBlur(grey, (9, 9) if method == "heavy" else (5, 5), 0)
    if method == "clahe":
        smooth = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(smooth)
    if method == "adaptive":
        return np.asarray(
            cv2.adaptiveThreshold(
                smooth, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY_INV, 41, 15
            )
        )
    _, out = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return np.asarray(out)


def _skew_angle(binary: np.ndarray[Any, Any]) -> float:
    """The rotation (degrees) that makes text rows sharpest: projection-profile variance."""
    cv2 = _cv2()
    small = cv2.resize(binary, None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    h, w = small.shape

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        turned = cv2.warpAffine(small, matrix, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
        return float(np.var(turned.sum(axis=1, dtype=np.float64)))

    best = max(range(-20, 21), key=lambda a: sharpness(float(a)))
    fine = [best + step / 4 for step in range(-4, 5)]
    return float(max(fine, key=sharpness))


def _rotate(grey: np.ndarray[Any, Any], angle: float) -> np.ndarray[Any, Any]:
    cv2 = _cv2()
    if angle == 0:
        return grey
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos), int(h * cos + w * sin)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    # Fill the new corners with the paper's shade: replicated edges draw stripes.
    paper = int(np.median(grey))
    return np.asarray(
        cv2.warpAffine(
            grey,
            matrix,
            (new_w, new_h),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=paper,
        )
    )


def _clean(binary: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Drop specks and shapes much larger than a letter (the oval border, box edges).

    Specks are judged against the image: at the working size a letter covers at least
    a few dozen pixels, while photo grain leaves thousands of tiny blobs that Tesseract
    would otherwise read, slowly, as text.
    """
    cv2 = _cv2()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, 8)
    h, w = binary.shape
    min_area = max(12, int(h * w * 0.00002))
    keep = np.zeros(count, dtype=bool)
    for i in range(1, count):
        _, _, bw, bh, area = stats[i]
        letter_sized = max(bw, bh) >= 8 and bh <= 0.25 * h and bw <= 0.45 * w
        keep[i] = area >= min_area and letter_sized
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _grainy(binary: np.ndarray[Any, Any]) -> bool:
    """Whether thresholding left mostly grain (then a wide blur reads better, and faster)."""
    cv2 = _cv2()
    count = cv2.connectedComponentsWithStats(binary, 8)[0]
    return bool(count > 3000)


# --- tesseract ---------------------------------------------------------------------------


@dataclass
class _Word:
    text: str
    conf: float
    line: tuple[int, int, int]


def _tesseract(binary: np.ndarray[Any, Any], psm: int) -> list[_Word]:
    cv2 = _cv2()
    exe = shutil.which("tesseract")
    if exe is None:
        raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr)")
    ok, png = cv2.imencode(".png", 255 - binary)
    if not ok:
        raise OcrUnavailable("could not encode the image for tesseract")
    try:
        done = subprocess.run(
            [exe, "stdin", "stdout", "--psm", str(psm), "-l", "eng", "tsv"],
            input=png.tobytes(),
            capture_output=True,
            timeout=TESSERACT_TIMEOUT,
            check=False,
            # One thread per call: OpenMP threads make tesseract slower on small images.
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    except subprocess.TimeoutExpired:
        raise OcrUnavailable("tesseract took too long") from None
    if done.returncode != 0:
        raise OcrUnavailable(f"tesseract failed (exit {done.returncode})")
    words: list[_Word] = []
    for row in done.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) != 12 or not cells[11].strip():
            continue
        try:
            conf = float(cells[10])
        except ValueError:
            continue
        words.append(
            _Word(
                cells[11].strip(),
                max(conf, 0.0) / 100,
                (int(cells[2]), int(cells[3]), int(cells[4])),
            )
        )
    return words


def _lines(words: list[_Word]) -> Iterator[tuple[str, list[tuple[int, int, float]]]]:
    """Each line's text with the character span and confidence of each word."""
    by_line: dict[tuple[int, int, int], list[_Word]] = {}
    for word in words:
        by_line.setdefault(word.line, []).append(word)
    for items in by_line.values():
        text, spans = "", []
        for word in items:
            if text:
                text += " "
            spans.append((len(text), len(text) + len(word.text), word.conf))
            text += word.text
        yield text, spans


def _span_conf(spans: list[tuple[int, int, float]], start: int, end: int) -> float:
    confs = [c for s, e, c in spans if s < end and e > start]
    return min(confs) if confs else 0.0


@dataclass
class _Variant:
    name: str
    psm: int
    method: str = "otsu"
    deskew: bool = True
    turn: int = 0


VARIANTS = [
    _Variant("otsu-deskew-psm6", 6),
    _Variant("otsu-deskew-psm11", 11),
    _Variant("heavy-deskew-psm6", 6, method="heavy"),
    _Variant("clahe-deskew-psm6", 6, method="clahe"),
    _Variant("adaptive-deskew-psm6", 6, method="adaptive"),
    _Variant("otsu-psm6", 6, deskew=False),
    _Variant("otsu-deskew-psm6-rot90", 6, turn=90),
    _Variant("otsu-deskew-psm6-rot180", 6, turn=180),
    _Variant("otsu-deskew-psm6-rot270", 6, turn=270),
]


def _candidates(words: list[_Word], exists: Callable[[str], bool]) -> list[OcrCandidate]:
    found: list[OcrCandidate] = []
    for text, spans in _lines(words):
        for match in _TOKEN.finditer(text):
            token = match.group(1)
            conf = _span_conf(spans, match.start(1), match.end(1))
            repairs = repair(token, exists)
            if repairs:
                for fixed in repairs[:3]:
                    penalty = 0.9 ** len(fixed.changes)
                    found.append(
                        OcrCandidate(fixed.code, conf * penalty, True, token, list(fixed.changes))
                    )
                continue
            code = EstablishmentCode.normalize(token)
            if code is not None:
                # Well formed but on no list: shown, never trusted as much as a listed code.
                found.append(OcrCandidate(code, conf * 0.5, False, token))
    return found


def read_stamp(
    data: bytes,
    exists: Callable[[str], bool],
    max_variants: int = len(VARIANTS),
    budget: float = TIME_BUDGET,
) -> OcrResult:
    """Read establishment codes from a photo of a stamp or box print.

    Args:
        data: the image file's bytes (JPEG, PNG, WebP, GIF, BMP, TIFF); kept in memory.
        exists: whether a normalised code is in the registry (repairs are checked with it).
        max_variants: try at most this many preprocessing variants.
        budget: seconds after which no further variant is started.

    Returns:
        Candidates best first (registry codes before others).

    Raises:
        ImageRejected: not an image, too big, or it does not decode.
        OcrUnavailable: Tesseract or OpenCV is missing or failed.
    """
    started = time.monotonic()
    grey, kind, width, height = _decode(data)
    base = _resize(grey)
    first = _binarize(base)
    angle = _skew_angle(first)
    straight = _rotate(base, angle)
    merged: dict[str, OcrCandidate] = {}
    tried: list[str] = []
    variants = VARIANTS[:max_variants]
    if _grainy(first):
        variants = sorted(variants, key=lambda v: v.method != "heavy")
    for variant in variants:
        if time.monotonic() - started > budget:
            break
        if variant.turn and any(c.in_registry for c in merged.values()):
            break  # upside-down and sideways readings only when nothing else worked
        image = straight if variant.deskew else base
        if variant.turn:
            image = np.rot90(image, k=variant.turn // 90).copy()
        binary = _clean(_binarize(image, variant.method))
        tried.append(variant.name)
        for cand in _candidates(_tesseract(binary, variant.psm), exists):
            seen = merged.get(cand.code)
            if seen is None:
                merged[cand.code] = cand
            else:
                seen.votes += 1
                if cand.confidence > seen.confidence:
                    cand.votes = seen.votes
                    merged[cand.code] = cand
        clean_hit = any(
            c.in_registry and not c.changes and c.confidence >= GOOD_ENOUGH for c in merged.values()
        )
        if clean_hit:
            break
    for cand in merged.values():
        agreement = min(0.15, 0.05 * (cand.votes - 1))
        # However often it is read, a code on no list stays below any listed reading.
        ceiling = 1.0 if cand.in_registry else 0.5
        cand.confidence = round(min(ceiling, cand.confidence + agreement), 3)
    ranked = sorted(merged.values(), key=lambda c: (not c.in_registry, -c.confidence, c.code))
    return OcrResult(
        candidates=ranked,
        angle=round(angle, 2),
        variants=tried,
        seconds=round(time.monotonic() - started, 3),
        image_format=kind,
        width=width,
        height=height,
    )


@dataclass
class PhotoLookup:
    """A photo lookup: what was read, and the lookup of the best reading.

    Attributes:
        ocr: the candidates and how the photo was read.
        result: the lookup of the best candidate (a registry code when one was read);
            None when no code was read at all.
    """

    ocr: OcrResult
    result: LookupResult | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"ocr": {...}, "result": {...} | null}``."""
        return {
            "ocr": self.ocr.to_dict(),
            "result": self.result.to_dict() if self.result is not None else None,
        }


def lookup_photo(
    engine: Engine,
    data: bytes,
    *,
    trade: TradeSource | None = None,
    restricted: bool = True,
) -> PhotoLookup:
    """Read a stamp photo against the workspace's registry and look up the best code.

    ``trade`` and ``restricted`` are passed to the lookup (see :func:`lookup_code`).

    Raises:
        ImageRejected: not an image we read.
        OcrUnavailable: Tesseract or OpenCV missing or failing.
    """
    reg = Registry(engine)
    ocr = read_stamp(data, reg.exists)
    best = ocr.best
    result = None
    if best is not None:
        query = parse_code(best.code)
        result = lookup_parsed(reg, query, best.code, trade=trade, restricted=restricted)
    return PhotoLookup(ocr=ocr, result=result)
