"""Identifiers: strict parsing, detection of unstated schemes, shared and conflicting."""

from tidetrace.resolve.identifiers import (
    Identifier,
    compare_identifiers,
    detect_scheme,
    parse_identifier,
)


def test_parse_normalises_and_refuses_invalid() -> None:
    assert parse_identifier("uscc", "91210200MA0QC4XK3U") == Identifier(
        "uscc", "91210200MA0QC4XK3U"
    )
    assert parse_identifier("uscc", "91210200MA0QC4XK3X") is None  # wrong check character
    assert parse_identifier("cn_establishment", "CN 2100/02153 EC") == Identifier(
        "cn_establishment", "2100/02153"
    )
    assert parse_identifier("imo", "IMO 9146405") == Identifier("imo", "9146405")
    assert parse_identifier("fei", "FEI: 3012345678") == Identifier("fei", "3012345678")
    assert parse_identifier("mmsi", "445 123 000") == Identifier("mmsi", "445123000")
    assert parse_identifier("mmsi", "12345") is None
    assert parse_identifier("no-such-scheme", "1") is None


def test_detect_only_distinctive_schemes() -> None:
    assert detect_scheme("91210200MA0QC4XK3U") == Identifier("uscc", "91210200MA0QC4XK3U")
    assert detect_scheme("2100/02153") == Identifier("cn_establishment", "2100/02153")
    assert detect_scheme("IMO 9146405") == Identifier("imo", "9146405")
    # A bare seven-digit number could be anything: never taken for an IMO number.
    assert detect_scheme("9146405") is None


def test_shared_links_conflict_blocks() -> None:
    a = [Identifier("uscc", "91210200MA0QC4XK3U"), Identifier("cn_establishment", "2100/02153")]
    b = [Identifier("uscc", "91210200MA0QC4XK3U")]
    assert compare_identifiers(a, b).links
    c = [Identifier("cn_establishment", "2100/02154")]
    result = compare_identifiers(a, c)
    assert result.blocks and not result.links
    assert result.conflicts == [("cn_establishment", ["2100/02153"], ["2100/02154"])]
    # MMSI changes with the flag: different values are no conflict.
    assert not compare_identifiers(
        [Identifier("mmsi", "445123000")], [Identifier("mmsi", "445999000")]
    ).blocks
