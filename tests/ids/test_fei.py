"""FDA FEI numbers."""

import pytest

from tidetrace.ids import get_identifier_format
from tidetrace.ids.fei import FEI


@pytest.mark.parametrize(
    "form",
    [
        "3012345678",
        "FEI 3012345678",
        "FEI: 3012345678",
        "fei#3012345678",
        "FEI No. 3012345678",
        " 3012345678 ",
    ],
)
def test_forms_normalise(form: str) -> None:
    assert FEI.normalize(form) == "3012345678"


def test_seven_digit_fei() -> None:
    assert FEI.normalize("1234567") == "1234567"


@pytest.mark.parametrize(
    "bad",
    ["", "123456", "12345678901", "0000000", "30123A5678", "FEI", "x" * 5000, "3012345678\x00"],
)
def test_rejects(bad: str) -> None:
    assert FEI.normalize(bad) is None


def test_decode_and_registry() -> None:
    decoded = FEI.decode("FEI 3012345678")
    assert decoded is not None
    assert decoded.scheme == "fei"
    assert decoded.value == "3012345678"
    assert get_identifier_format("fei") is FEI
