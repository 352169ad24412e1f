"""Video triage: keyframes, their perceptual hashes, and Hangul found in them by OCR.

Investigators watch hundreds of short videos from Douyin, Bilibili or WeChat. Keyframes
(ffmpeg) OCR'd with tesseract's Korean model flag footage showing Korean-language text —
machine labels, banners with Workers' Party slogans — at the frame's timestamp, so a
reviewer knows where to look. A flag is a review aid and never a finding: tesseract
misreads, and Korean text can have innocent reasons. Keyframe perceptual hashes help find
re-uploads of the same footage.
"""

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import imagehash
from PIL import Image

from tidetrace.exc import TidetraceError

__all__ = [
    "MAX_KEYFRAMES",
    "Flag",
    "Keyframe",
    "Triage",
    "extract_keyframes",
    "hangul_count",
    "ocr_hangul",
    "probe_duration",
    "triage",
]

MAX_KEYFRAMES = 40
MIN_HANGUL = 2
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_PTS = re.compile(r"pts_time:\s*([0-9.]+)")


class VideoError(TidetraceError):
    """ffmpeg or tesseract failed on a video."""

    STATUS = 422


@dataclass(frozen=True)
class Keyframe:
    """A keyframe: its time in seconds and its perceptual hash (hex)."""

    t: float
    phash: str


@dataclass(frozen=True)
class Flag:
    """Korean-language text seen in a keyframe, for a reviewer to check.

    Attributes:
        t: time of the frame in seconds.
        text: what tesseract read (may contain errors).
        hangul: how many Hangul characters were read.
    """

    t: float
    text: str
    hangul: int


@dataclass(frozen=True)
class Triage:
    """The result of triaging one video.

    Attributes:
        keyframes: the keyframes examined.
        flags: frames with Korean-language text.
        tool: the tools and versions used.
        duration: the video's duration in seconds, when known.
        ocr: whether OCR ran.
    """

    keyframes: list[Keyframe]
    flags: list[Flag]
    tool: str
    duration: float | None
    ocr: bool


def hangul_count(text: str) -> int:
    """How many Hangul characters (syllables or jamo) ``text`` contains."""
    return len(_HANGUL.findall(text))


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    """``tesseract 5.3.0`` or similar."""
    try:
        out = subprocess.run(
            ["tesseract", "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except FileNotFoundError:
        raise VideoError("tesseract is not installed (Debian tesseract-ocr-kor)") from None
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "tesseract"


def probe_duration(path: Path) -> float | None:
    """The duration of a video in seconds (None when ffprobe cannot tell)."""
    try:
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "default=noprint_wrappers=1:nokey=1",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except FileNotFoundError:
        raise VideoError("ffprobe is not installed (Debian package 'ffmpeg')") from None
    try:
        return float(out.stdout.strip())
    except ValueError:
        return None


def extract_keyframes(
    path: Path, out_dir: Path, max_frames: int = MAX_KEYFRAMES
) -> list[tuple[float, Path]]:
    """Write up to ``max_frames`` keyframes, spread over the video, as PNG files.

    Returns:
        (time in seconds, PNG path) for each frame, in time order.

    Raises:
        VideoError: ffmpeg cannot read the video.
    """
    duration = probe_duration(path) or 0.0
    # Spread the frames: at most one keyframe per interval.
    interval = max(1.0, duration / max_frames) if duration else 1.0
    select = f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval:.3f})',showinfo"
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-skip_frame",
        "nokey",
        "-i",
        str(path),
        "-an",
        "-vf",
        select,
        "-fps_mode",
        "vfr",
        "-frames:v",
        str(max_frames),
        "-y",
        str(out_dir / "kf-%05d.png"),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    except FileNotFoundError:
        raise VideoError("ffmpeg is not installed (Debian package 'ffmpeg')") from None
    except subprocess.TimeoutExpired:
        raise VideoError("ffmpeg took too long extracting keyframes") from None
    if done.returncode != 0:
        raise VideoError(f"ffmpeg could not read the video: {done.stderr.strip()[-300:]}")
    times = [float(m.group(1)) for m in _PTS.finditer(done.stderr)]
    frames = sorted(out_dir.glob("kf-*.png"))
    return list(zip(times, frames, strict=False))


def ocr_hangul(image: Path) -> str:
    """Korean OCR of one image (tesseract ``kor``, sparse text), as read."""
    try:
        done = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", "kor", "--psm", "11"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except FileNotFoundError:
        raise VideoError("tesseract is not installed (Debian tesseract-ocr-kor)") from None
    except subprocess.TimeoutExpired:
        return ""
    return " ".join(done.stdout.split())


def _phash(frame: Path) -> str:
    with Image.open(frame) as im:
        return str(imagehash.phash(im))


def triage(path: Path, scratch: Path, ocr: bool = True, max_frames: int = MAX_KEYFRAMES) -> Triage:
    """Keyframes, their perceptual hashes and, with ``ocr``, Hangul flags for a video.

    Args:
        path: the video (plaintext, e.g. the file being added).
        scratch: a private scratch directory; frames are written there.
        ocr: run tesseract on each keyframe.
        max_frames: at most this many keyframes.
    """
    frames = extract_keyframes(path, scratch, max_frames)
    keyframes = [Keyframe(round(t, 3), _phash(p)) for t, p in frames]
    flags: list[Flag] = []
    if ocr and frames:
        # tesseract is single-threaded per image: two at a time use both cores.
        with ThreadPoolExecutor(max_workers=2) as pool:
            texts = list(pool.map(ocr_hangul, [p for _, p in frames]))
        for (t, _), text in zip(frames, texts, strict=True):
            count = hangul_count(text)
            if count >= MIN_HANGUL:
                flags.append(Flag(round(t, 3), text[:300], count))
    tools = [_ffmpeg_tool()]
    if ocr:
        tools.append(f"{tesseract_version()} (kor)")
    return Triage(keyframes, flags, "; ".join(tools), probe_duration(path), ocr)


def _ffmpeg_tool() -> str:
    from tidetrace.vault.strip import ffmpeg_version

    return ffmpeg_version()
