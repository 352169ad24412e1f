"""Establishment codes: variant forms, provinces, strictness and registry-checked OCR repair."""

import pytest

from tidetrace.ids import get_identifier_format
from tidetrace.ids.establishment import (
    ApprovalNumber,
    EstablishmentCode,
    extract,
    province_for,
    provinces,
    repair,
    split_mark,
)

# Every way the one code 2100/02153 is typed or printed (issue 4, deliverable 1).
VARIANTS = [
    "2100/02153",
    "CN 2100/02153",
    "CN-2100/02153",
    "CN2100/02153",
    "CHINA 2100/02153 EC",
    "China 2100/02153",
    "cn 2100/02153 ec",
    "CN 2100/02153 EU",
    "CN 2100/02153 CE",
    "CN-2100/02153-EC",
    "2100 / 02153",
    "2100/ 02153",
    "  2100/02153  ",
    "P.R. CHINA 2100/02153",
    "PRC 2100/02153",
    "CN：2100／02153",  # full-width colon and slash from Chinese box print
    "２１００/０２１５３",  # full-width digits
]


@pytest.mark.parametrize("form", VARIANTS)
def test_every_variant_normalises_to_one_code(form: str) -> None:
    assert EstablishmentCode.normalize(form) == "2100/02153"
    assert EstablishmentCode.is_valid(form)
    assert EstablishmentCode.format(form) == "2100/02153"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "2100/0215",  # four-digit serial
        "2100/021533",
        "210/02153",
        "2100-02153",  # a hyphen is not the slash
        "210002153",  # lost slash: only an OCR repair against the registry
        "9900/02153",  # 99 is no province
        "0000/02153",
        "2100/00000",
        "US 2100/02153",
        "CN 2100/02153 XX",
        "2100/02153/1",
        "DL 123",
        "2100/O2153",  # letter O: only an OCR repair
        "x" * 10_000,
        "2100/02153\x00",
        "CN\t2100/02153",
        "2100/02153\n",
        "2100/\u200b02153",  # zero-width space
        "<b>2100/02153</b>",
        "2100/02153'; DROP TABLE statement; --",
    ],
)
def test_malformed_codes_are_rejected(bad: str) -> None:
    assert EstablishmentCode.normalize(bad) is None
    assert not EstablishmentCode.is_valid(bad)


def test_decode_gives_scheme_and_province() -> None:
    decoded = EstablishmentCode.decode("CN 3700/02001 EC")
    assert decoded is not None
    assert decoded.scheme == "cn_establishment"
    assert decoded.value == "3700/02001"
    assert decoded.parts["province"] == "Shandong"
    assert decoded.parts["province_zh"] == "山东"
    assert decoded.parts["region"] == "3700"
    assert decoded.parts["serial"] == "02001"
    assert EstablishmentCode.decode("nonsense") is None


@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("21", "Liaoning"),
        ("37", "Shandong"),
        ("35", "Fujian"),
        ("33", "Zhejiang"),
        ("44", "Guangdong"),
        ("22", "Jilin"),
    ],
)
def test_province_table_has_the_issue_examples(prefix: str, name: str) -> None:
    province = province_for(f"{prefix}00/00001")
    assert province is not None
    assert province.en == name
    assert prefix in provinces()


def test_mark_prints_the_oval_form() -> None:
    assert EstablishmentCode.mark("2100/02153") == "CN 2100/02153 EC"
    with pytest.raises(ValueError):
        EstablishmentCode.mark("nope")


def test_registered_in_identifier_registry() -> None:
    assert get_identifier_format("cn_establishment") is EstablishmentCode
    assert get_identifier_format("APPROVAL") is ApprovalNumber


def test_extract_finds_codes_in_box_print() -> None:
    text = (
        "冷冻鱿鱼 FROZEN SQUID\n加工厂注册号: 2100/02153  生产日期 2024/05/01\n"
        "CN 3700/02001 EC 12100/021533"
    )
    # 2024/05/01 has a two-digit tail and 12100/021533 is glued to other digits: neither counts.
    assert extract(text) == ["2100/02153", "3700/02001"]


class TestApprovalNumber:
    def test_folds_case_and_separators(self) -> None:
        assert ApprovalNumber.normalize("dl-123") == "DL123"
        assert ApprovalNumber.normalize("DL 123") == "DL123"
        assert ApprovalNumber.normalize("D.L. 123") == "DL123"
        assert ApprovalNumber.normalize("TS 1234 / 5") == "TS1234/5"

    @pytest.mark.parametrize(
        "bad", ["", "ABC", "<script>1</script>", "1;2", "x" * 65, "1\n2", "a\x07 1"]
    )
    def test_rejects(self, bad: str) -> None:
        assert ApprovalNumber.normalize(bad) is None

    def test_split_mark(self) -> None:
        assert split_mark("VN DL 123 EC") == ("VN", "DL 123")
        assert split_mark("KR-1234-EU") == ("KR", "1234")
        assert split_mark("DL 123") == ("DL", "123")  # the caller tries both readings
        assert split_mark("ABC 123") == (None, "ABC 123")


class TestRepair:
    REGISTRY = frozenset({"2100/02153", "3700/02001", "2100/01153"})

    def exists(self, code: str) -> bool:
        return code in self.REGISTRY

    @pytest.mark.parametrize(
        ("token", "code"),
        [
            ("2100/02153", "2100/02153"),
            ("21OO/O2153", "2100/02153"),  # O → 0
            ("2100/02IS3", "2100/02153"),  # I → 1, S → 5
            ("2100/0215B", None),  # B → 8 gives 2100/02158, not in the registry
            ("37OO/O2OOl", "3700/02001"),  # l → 1
            ("210002153", "2100/02153"),  # lost slash
            ("2100 02153", "2100/02153"),  # slash read as a space
            ("2100102153", "2100/02153"),  # slash read as 1
            ("2100|02153", "2100/02153"),  # slash read as a bar
            ("2100l02153", "2100/02153"),
        ],
    )
    def test_repairs_only_into_existing_codes(self, token: str, code: str | None) -> None:
        found = repair(token, self.exists)
        if code is None:
            assert found == []
        else:
            assert found[0].code == code

    def test_no_repair_when_repaired_code_does_not_exist(self) -> None:
        # Each of these repairs into a well-formed code, but none is in the registry.
        for token in ("21OO/O2154", "210002154", "2100102154", "44OO/OOOOl"):
            assert repair(token, self.exists) == []

    def test_a_valid_reading_is_never_repaired_into_another_plant(self) -> None:
        # 2100/02154 is well formed; it is not changed into the existing 2100/02153.
        assert repair("2100/02154", self.exists) == []

    def test_repair_records_changes(self) -> None:
        [found] = repair("21OO/O2153", self.exists)
        assert found.changes == ("O→0", "O→0", "O→0")
        [found] = repair("210002153", self.exists)
        assert found.changes == ("slash restored",)
        [exact] = repair("2100/02153", self.exists)
        assert exact.changes == ()

    def test_hostile_tokens(self) -> None:
        calls: list[str] = []

        def spy(code: str) -> bool:
            calls.append(code)
            return False

        assert repair("9" * 10_000, spy) == []
        assert repair("'; DROP TABLE x; --", spy) == []
        assert calls == []
