"""HS commodity codes: the forms manifests write, chapters, seafood, descriptions."""

import pytest

from tidetrace.ids import get_identifier_format
from tidetrace.ids.hs import HSCode, describe, is_seafood


@pytest.mark.parametrize(
    ("form", "digits"),
    [
        ("030743", "030743"),
        ("0307.43", "030743"),
        ("0307.43.0050", "0307430050"),
        ("0307 43 00", "03074300"),
        ("HS 1605.54", "160554"),
        ("HS: 160554", "160554"),
        ("０３０７．４３", "030743"),
        ("16055400", "16055400"),
    ],
)
def test_forms_normalise(form: str, digits: str) -> None:
    assert HSCode.normalize(form) == digits


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "0307",  # a heading, not a code
        "30743",  # a chapter-03 code whose leading zero a spreadsheet dropped: not guessed
        "03074300501",  # eleven digits
        "770000",  # chapter 77 is reserved
        "0307A3",
        "0307,43",
        "x" * 5000,
    ],
)
def test_rejects(bad: str) -> None:
    assert HSCode.normalize(bad) is None
    assert not HSCode.is_valid(bad)


def test_seafood_chapters() -> None:
    assert is_seafood("030743")
    assert is_seafood("160420")  # prepared fish
    assert is_seafood("160554")  # prepared molluscs
    assert not is_seafood("160100")  # sausages: chapter 16, but not 1604/1605
    assert not is_seafood("690721")


def test_decode_gives_descriptions() -> None:
    decoded = HSCode.decode("0307.43.0050")
    assert decoded is not None
    assert decoded.value == "0307430050"
    assert decoded.parts["heading"] == "0307"
    assert decoded.parts["seafood"] == "true"
    assert "squid" in decoded.parts["description"].lower()
    assert decoded.parts["chapter_description"].startswith("Fish and crustaceans")
    # Non-seafood codes still get their heading's description from the bundled table.
    assert describe("690721") is not None


def test_format() -> None:
    assert HSCode.format("030743") == "0307.43"
    assert HSCode.format("0307430050") == "0307.43.0050"
    assert HSCode.format("nonsense") == "nonsense"


def test_registered() -> None:
    assert get_identifier_format("hs") is HSCode
