"""ISO 6346 container numbers and their check digit."""

import random

import pytest

from tidetrace.ids import get_identifier_format
from tidetrace.ids.container import ContainerNumber, check_digit


@pytest.mark.parametrize(
    "form",
    ["CSQU3054383", "CSQU 305438 3", "CSQU 305438-3", "csqu-305438-3", "ＣＳＱＵ３０５４３８３"],
)
def test_forms_normalise(form: str) -> None:
    # CSQU 305438 3 is the worked example of ISO 6346.
    assert ContainerNumber.normalize(form) == "CSQU3054383"


@pytest.mark.parametrize(
    "bad",
    [
        "CSQU3054384",  # wrong check digit
        "CSQA3054383",  # A is not an equipment category
        "CSQ3054383",
        "CSQU305438",
        "12QU3054383",
        "CSQU3054383X",
        "",
        "x" * 1000,
    ],
)
def test_rejects(bad: str) -> None:
    assert ContainerNumber.normalize(bad) is None


def test_check_digit_ten_is_zero() -> None:
    # A remainder of 10 is written 0: find one and check it round-trips.
    rng = random.Random(5)
    for _ in range(2000):
        prefix = "TGHU" + f"{rng.randrange(10**6):06d}"
        total = sum(
            "0123456789A?BCDEFGHIJK?LMNOPQRSTU?VWXYZ".index(c) * 2**i for i, c in enumerate(prefix)
        )
        if total % 11 == 10:
            assert check_digit(prefix) == 0
            assert ContainerNumber.normalize(prefix + "0") == prefix + "0"
            return
    pytest.fail("no prefix with remainder 10 found")


def test_check_digit_refuses_bad_prefix() -> None:
    with pytest.raises(ValueError):
        check_digit("CSQU30543")


def test_decode_and_format() -> None:
    decoded = ContainerNumber.decode("CSQU3054383")
    assert decoded is not None
    assert decoded.parts == {
        "owner": "CSQ",
        "category": "freight container",
        "serial": "305438",
        "check_digit": "3",
    }
    assert ContainerNumber.format("csqu3054383") == "CSQU 305438 3"
    assert get_identifier_format("container") is ContainerNumber
