"""Reading codes off stamp photos: rendered with Pillow, read end to end by Tesseract."""

import io
import shutil

import pytest
from PIL import Image, ImageDraw

from tidetrace.registry.ocr import (
    MAX_IMAGE_BYTES,
    ImageRejected,
    _candidates,
    _Word,
    read_stamp,
    sniff_image,
)
from tidetrace.registry.render import PRODUCTS, Distortion, box_print, oval_mark, photograph

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract missing")

REGISTRY = frozenset({"2100/02153", "3700/02001", "3500/02777"})


def in_registry(code: str) -> bool:
    return code in REGISTRY


def test_oval_mark_photo_is_read_end_to_end() -> None:
    # The example: an oval EU identification mark, rotated a few degrees, as JPEG.
    photo = photograph(
        oval_mark("2100/02153", country="CN", suffix="EC"),
        Distortion(angle=4.0, blur=0.6, noise=4.0, contrast=0.8, quality=75),
    )
    assert sniff_image(photo) == "jpeg"
    result = read_stamp(photo, in_registry)
    best = result.best
    assert best is not None
    assert best.code == "2100/02153"
    assert best.in_registry
    assert best.changes == []
    assert best.confidence > 0.5
    assert abs(abs(result.angle) - 4.0) <= 1.0


def test_box_print_with_chinese_product_name() -> None:
    photo = photograph(
        box_print("3700/02001", PRODUCTS[1]), Distortion(angle=-9.0, noise=6.0, quality=70)
    )
    best = read_stamp(photo, in_registry).best
    assert best is not None
    assert (best.code, best.in_registry) == ("3700/02001", True)


def test_sideways_photo() -> None:
    photo = photograph(oval_mark("3500/02777").rotate(90, expand=True), Distortion(quality=80))
    best = read_stamp(photo, in_registry).best
    assert best is not None
    assert best.code == "3500/02777"


def test_a_code_on_no_list_is_reported_but_not_trusted() -> None:
    photo = photograph(oval_mark("4400/12345"), Distortion(angle=2.0, quality=85))
    result = read_stamp(photo, in_registry)
    assert [(c.code, c.in_registry) for c in result.candidates] == [("4400/12345", False)]
    assert result.candidates[0].confidence <= 0.5


def test_a_lost_slash_is_repaired_only_into_an_existing_code() -> None:
    # The stamp lost its slash (worn die): the reading is repaired against the registry.
    photo = photograph(oval_mark("2100 02153"), Distortion(angle=3.0, quality=85))
    repaired = read_stamp(photo, in_registry).best
    assert repaired is not None
    assert (repaired.code, repaired.in_registry) == ("2100/02153", True)
    assert repaired.changes == ["slash restored"]
    # Against a registry without that code, nothing is repaired into existence.
    assert read_stamp(photo, lambda code: False).candidates == []


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("CN 21OO/O2153 EC", "2100/02153"),  # letter O for zero
        ("Plant No.: 37OO/O2OOl", "3700/02001"),  # and l for one
        ("CN 35OO|O2777 EC", "3500/02777"),  # slash read as a bar
        ("CN 2I00/0215B EC", None),  # repairs into 2100/02158: not in the registry
    ],
)
def test_lookalike_letters_are_repaired_only_into_existing_codes(
    line: str, code: str | None
) -> None:
    words = [_Word(text, 0.9, (1, 1, 1)) for text in line.split()]
    found = _candidates(words, in_registry)
    listed = [c.code for c in found if c.in_registry]
    assert listed == ([code] if code is not None else [])
    if code is not None:
        assert found[0].changes
        assert found[0].confidence < 0.9  # each repair costs confidence


def test_a_photo_without_a_code() -> None:
    img = Image.new("RGB", (400, 200), (240, 240, 240))
    ImageDraw.Draw(img).text((20, 80), "FROZEN SQUID", fill=(0, 0, 0))
    result = read_stamp(photograph(img, Distortion()), in_registry)
    assert result.candidates == []
    assert result.best is None


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not a JPEG"),
        (b"%PDF-1.7 not an image", "not a JPEG"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "does not decode"),
        (b"\xff\xd8\xff" + b"garbage" * 50, "does not decode"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_IMAGE_BYTES + 1), "larger than"),
    ],
)
def test_uploads_that_are_not_images_are_rejected(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as err:
        read_stamp(data, in_registry)
    assert reason in err.value.detail


def test_decompression_bomb_is_rejected() -> None:
    # 100 megapixels of one colour compress to a small PNG.
    bomb = _png(Image.new("1", (10_000, 10_000)))
    assert len(bomb) < MAX_IMAGE_BYTES
    with pytest.raises(ImageRejected):
        read_stamp(bomb, in_registry)


def test_type_comes_from_the_bytes_not_the_name() -> None:
    png = _png(oval_mark("2100/02153"))
    assert sniff_image(png) == "png"
    assert sniff_image(b"GIF89a....") == "gif"
    assert sniff_image(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_image(b"just text.jpg") is None
