"""Draw package stamps for tests, benchmarks and the demo: oval marks and box print.

Two kinds of image are drawn from a code: the oval EU identification mark (``CN`` /
``2100/02153`` / ``EC`` inside an ellipse, as stamped on cartons) and box print (a Chinese
and English product name above a line such as ``加工厂注册号 Plant No.: 2100/02153``).
:func:`photograph` then makes either look like a phone photo of a carton: rotated, blurred,
noisy, low in contrast, saved as JPEG.
"""

import io
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

__all__ = ["PRODUCTS", "Distortion", "box_print", "oval_mark", "photograph"]

_FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype")
LATIN_FONTS = ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "DejaVuSans.ttf")
CJK_FONTS = ("wqy-zenhei.ttc", "NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc")
# Product names as printed on seafood cartons, Chinese and English.
PRODUCTS = [
    ("冷冻鱿鱼", "FROZEN SQUID"),
    ("冷冻阿拉斯加狭鳕鱼片", "FROZEN ALASKA POLLOCK FILLETS"),
    ("冷冻扇贝肉", "FROZEN SCALLOP MEAT"),
    ("冷冻虾仁", "FROZEN PEELED SHRIMP"),
    ("冷冻鳕鱼块", "FROZEN COD PORTIONS"),
    ("冷冻蛤蜊", "FROZEN CLAMS"),
    ("冷冻章鱼", "FROZEN OCTOPUS"),
    ("冷冻三文鱼片", "FROZEN SALMON FILLETS"),
]


@cache
def _font_path(names: tuple[str, ...]) -> str:
    for name in names:
        for root in _FONT_DIRS:
            found = next(Path(root).rglob(name), None)
            if found is not None:
                return str(found)
    raise FileNotFoundError(f"none of the fonts {', '.join(names)} is installed")


def _font(names: tuple[str, ...], size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(_font_path(names), size)


def oval_mark(
    code: str,
    country: str = "CN",
    suffix: str = "EC",
    width: int = 560,
    ink: tuple[int, int, int] = (25, 25, 30),
    paper: tuple[int, int, int] = (246, 244, 238),
) -> Image.Image:
    """The oval identification mark: country above, code in the middle, suffix below."""
    height = int(width * 0.58)
    img = Image.new("RGB", (width + 80, height + 80), paper)
    draw = ImageDraw.Draw(img)
    box = (40, 40, 40 + width, 40 + height)
    draw.ellipse(box, outline=ink, width=max(4, width // 90))
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    big = _font(LATIN_FONTS, int(height * 0.2))
    small = _font(LATIN_FONTS, int(height * 0.17))
    draw.text((cx, cy), code, font=big, fill=ink, anchor="mm")
    draw.text((cx, cy - int(height * 0.27)), country, font=small, fill=ink, anchor="mm")
    draw.text((cx, cy + int(height * 0.27)), suffix, font=small, fill=ink, anchor="mm")
    return img


def box_print(
    code: str,
    product: tuple[str, str] = PRODUCTS[0],
    label: str = "加工厂注册号 Plant No.:",
    width: int = 900,
    ink: tuple[int, int, int] = (20, 40, 110),
    paper: tuple[int, int, int] = (214, 190, 150),
) -> Image.Image:
    """Box print on kraft board: product name in Chinese and English, then the plant number."""
    img = Image.new("RGB", (width, int(width * 0.45)), paper)
    draw = ImageDraw.Draw(img)
    zh = _font(CJK_FONTS, int(width * 0.06))
    en = _font(LATIN_FONTS, int(width * 0.04))
    mixed = _font(CJK_FONTS, int(width * 0.042))
    draw.text((40, 30), product[0], font=zh, fill=ink)
    draw.text((40, 40 + int(width * 0.07)), product[1], font=en, fill=ink)
    line_y = 60 + int(width * 0.14)
    draw.text((40, line_y), f"{label} {code}", font=mixed, fill=ink)
    draw.text((40, line_y + int(width * 0.07)), "MADE IN CHINA  -18°C", font=en, fill=ink)
    return img


@dataclass(frozen=True)
class Distortion:
    """How a photo of a stamp differs from a clean render."""

    angle: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    contrast: float = 1.0
    quality: int = 85
    scale: float = 1.0

    @classmethod
    def random(cls, rng: random.Random, max_angle: float = 15.0) -> "Distortion":
        """A plausible phone photo: up to ±max_angle degrees, some blur, noise and fade."""
        return cls(
            angle=rng.uniform(-max_angle, max_angle),
            blur=rng.choice([0.0, 0.0, 0.6, 1.0, 1.4]),
            noise=rng.choice([0.0, 4.0, 8.0, 12.0]),
            contrast=rng.choice([1.0, 0.8, 0.6, 0.45]),
            quality=rng.choice([50, 65, 80, 92]),
            scale=rng.choice([0.6, 0.8, 1.0, 1.2]),
        )


def photograph(img: Image.Image, distortion: Distortion, seed: int = 0) -> bytes:
    """The image as a JPEG photo with the given distortion."""
    out = img
    if distortion.scale != 1.0:
        size = (int(out.width * distortion.scale), int(out.height * distortion.scale))
        out = out.resize(size, Image.Resampling.LANCZOS)
    if distortion.angle:
        fill = out.getpixel((2, 2))
        out = out.rotate(
            distortion.angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill
        )
    if distortion.contrast != 1.0:
        out = ImageEnhance.Contrast(out).enhance(distortion.contrast)
    if distortion.blur:
        out = out.filter(ImageFilter.GaussianBlur(distortion.blur))
    if distortion.noise:
        # Seeded, so that a test or benchmark draws the same photo every run.
        rng = np.random.default_rng(seed)
        pixels = np.asarray(out.convert("RGB"), dtype=np.float32)
        grain = rng.normal(0.0, distortion.noise * 1.5, pixels.shape[:2])[..., None]
        specks = rng.random(pixels.shape[:2]) < 0.0004
        pixels = np.clip(pixels + grain, 0, 255)
        pixels[specks] = 90
        out = Image.fromarray(pixels.astype(np.uint8), "RGB")
    buf = io.BytesIO()
    out.convert("RGB").save(buf, format="JPEG", quality=distortion.quality)
    return buf.getvalue()
