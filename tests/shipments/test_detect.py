"""Sniffing a file: kind, encoding (UTF-8, BOM, GB18030, Big5, CP949), delimiter, header."""

import hashlib
from pathlib import Path

import pytest

from tidetrace.exc import InputError
from tidetrace.shipments.detect import detect_encoding, sniff_file
from tidetrace.shipments.synth import write_encoded_sample

CHINESE = (
    "丹东海祥食品有限公司,辽宁省丹东市振兴区滨海路18号\n"
    "大连宝盛水产品有限公司,辽宁省大连市甘井子区\n"
)
TRADITIONAL = (
    "高雄海洋食品股份有限公司,台灣高雄市前鎮區漁港中二路\n基隆漁業有限公司,基隆市中正區正濱路\n"
)
KOREAN = (
    "동해수산 주식회사,부산광역시 서구 충무대로 12\n"
    "한빛냉동식품 주식회사,부산광역시 영도구 해양로 35\n"
)


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (CHINESE, "gb18030", "gb18030"),
        (CHINESE, "gbk", "gb18030"),
        (TRADITIONAL, "big5", "big5"),
        (KOREAN, "euc_kr", "cp949"),
        (KOREAN, "cp949", "cp949"),
        (CHINESE + KOREAN, "utf-8", "utf-8"),
        (CHINESE, "utf-8-sig", "utf-8-sig"),
        ("Müller Fisch GmbH,Straße 1\nPêcheries Côtières SA,Quai\n", "cp1252", "cp1252"),
    ],
)
def test_detect_encoding(text: str, codec: str, expected: str) -> None:
    guess = detect_encoding(("bill,shipper,address\n" + text).encode(codec))
    assert guess.encoding == expected
    assert guess.confidence >= 0.6


def test_too_little_text_is_ambiguous_not_guessed() -> None:
    guess = detect_encoding("a,b\n1,大连\n".encode("gb18030"))
    assert guess.confidence < 0.6
    assert "ambiguous" in guess.note


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "big5", "cp949", "euc-kr"])
def test_sniff_encoded_samples(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"{encoding}.csv"
    write_encoded_sample(path, encoding)
    sniff = sniff_file(path)
    expected = {"euc-kr": "cp949"}.get(encoding, encoding)
    assert sniff.encoding == expected
    assert sniff.kind == "csv"
    assert sniff.headers[:3] == ["bill_of_lading", "master_bill_of_lading", "arrival_date"]
    assert sniff.bom == (3 if encoding == "utf-8-sig" else 0)
    assert sniff.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_given_encoding_wins(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_bytes("bill_of_lading,shipper_name,consignee_name\nX,大连,Y\n".encode("gb18030"))
    with pytest.raises(InputError, match="--encoding"):
        sniff_file(path)
    sniff = sniff_file(path, encoding="GBK")
    assert sniff.encoding == "gb18030"
    assert "given" in sniff.encoding_note
    with pytest.raises(InputError, match="unknown encoding"):
        sniff_file(path, encoding="klingon")


def test_utf8_with_a_few_bad_bytes_is_lossy_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "mostly.csv"
    body = "bill_of_lading,shipper_name,consignee_name\n" + "B1,MÜLLER FISCH,BÜYER\n" * 2000
    path.write_bytes(body.encode() + b"B2,AC\xffME,BUYER\n")
    sniff = sniff_file(path)
    assert sniff.encoding == "utf-8"
    assert sniff.lossy
    assert "invalid bytes" in sniff.encoding_note


def test_gb18030_after_a_long_ascii_start(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    ascii_part = "bill_of_lading,shipper_name,consignee_name\n" + "B1,ACME,BUYER\n" * 90_000
    path.write_bytes(ascii_part.encode() + ("B2," + CHINESE.replace(",", " ")).encode("gb18030"))
    sniff = sniff_file(path)
    assert sniff.encoding == "gb18030"
    assert not sniff.lossy


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_delimiter(tmp_path: Path, delimiter: str, name: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(
        delimiter.join(["bill_of_lading", "shipper_name", "consignee_name"]) + "\nB;1\tx|y\n",
        encoding="utf-8",
    )
    assert sniff_file(path).delimiter == delimiter


def test_header_with_a_quoted_newline(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text('bill_of_lading,"shipper\nname",consignee_name\nB1,A,C\n', encoding="utf-8")
    sniff = sniff_file(path)
    assert sniff.header_lines == 2
    assert sniff.headers[1] == "shipper\nname"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"\x00\x01\x02\x03" * 100, "binary"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=reason):
        sniff_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        sniff_file(tmp_path / "nope.csv")


def test_xlsx_is_recognised(tmp_path: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]

    path = tmp_path / "export.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Panjiva export", None, None])
    sheet.append(["Bill of Lading Number", "Shipper", "Consignee"])
    sheet.append(["B1", "A", "C"])
    workbook.save(path)
    sniff = sniff_file(path)
    assert sniff.kind == "xlsx"
    assert sniff.headers == ["Bill of Lading Number", "Shipper", "Consignee"]
    assert sniff.header_lines == 2
