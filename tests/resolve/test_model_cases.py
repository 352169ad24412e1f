"""Match cases as a table, on the model of nomenklatura's ``test_model_cases.py``.

Each case is two names (and optional countries) with the band tidetrace must put them in.
The table covers every script pair (Han, traditional Han, pinyin, English, Hangul), legal
forms, the vocabulary, places and the hard negatives the issue names: 丹东 has dozens of
食品 firms, 海青 and 海清 sound alike, one trade name in two cities.
"""

from typing import Literal, NotRequired, TypedDict

import pytest

from tidetrace.resolve.identifiers import Identifier
from tidetrace.resolve.records import Record
from tidetrace.resolve.scoring import Scorer


class MatchCase(TypedDict):
    """One case: two names, what they are, and the band expected."""

    left: str
    right: str
    decision: Literal["match", "review", "no-match"]
    why: str
    left_country: NotRequired[str]
    right_country: NotRequired[str]


CASES: list[MatchCase] = [
    # Han ↔ Latin (issue 6's own example).
    {
        "left": "大连海青食品有限公司",
        "right": "Dalian Haiqing Food Co., Ltd.",
        "decision": "match",
        "why": "han-latin",
    },
    {
        "left": "大连海青食品有限公司",
        "right": "DALIAN HAIQING FOODS CO LTD",
        "decision": "match",
        "why": "han-latin, plural",
    },
    {
        "left": "大连海青食品有限公司",
        "right": "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD",
        "decision": "match",
        "why": "spaced pinyin, address",
    },
    {
        "left": "丹东泰丰食品有限公司",
        "right": "Dandong Taifeng Foodstuffs Co., Ltd.",
        "decision": "match",
        "why": "foodstuffs = 食品",
    },
    {
        "left": "东港市金汇食品有限公司",
        "right": "Donggang Jinhui Food",
        "decision": "match",
        "why": "市 suffix, no legal form",
    },
    {
        "left": "荣成市海洋食品进出口有限公司",
        "right": "RONGCHENG MARINE FOODS IMP & EXP CO LTD",
        "decision": "match",
        "why": "海洋食品 = marine foods, 进出口 = imp & exp",
    },
    {
        "left": "青岛冷藏水产品贸易有限公司",
        "right": "QINGDAO COLD STORAGE AQUATIC PRODUCTS TRADING CO LTD",
        "decision": "match",
        "why": "冷藏, 水产品, 贸易",
    },
    # Traditional Han ↔ Latin and ↔ simplified.
    {
        "left": "大連海青食品有限公司",
        "right": "Dalian Haiqing Food Co., Ltd.",
        "decision": "match",
        "why": "hant-latin",
    },
    {
        "left": "大連海青食品有限公司",
        "right": "大连海青食品有限公司",
        "decision": "match",
        "why": "hant-han",
    },
    {
        "left": "丹東遠一精製海產品有限公司",
        "right": "Dandong Yuanyi Refined Seafoods",
        "decision": "match",
        "why": "精製 = refined",
    },
    # Pinyin-only registrations.
    {
        "left": "东港市金汇食品有限公司",
        "right": "Donggang Jinhui Shipin Youxian Gongsi",
        "decision": "match",
        "why": "han-pinyin",
    },
    # Hangul ↔ Latin: Revised Romanization against McCune-Reischauer spellings.
    {
        "left": "조선련봉총회사",
        "right": "KOREA RYONBONG GENERAL CORPORATION",
        "decision": "match",
        "why": "hangul-latin, 조선 = Korea",
    },
    {
        "left": "평양대성무역회사",
        "right": "Pyongyang Taesong Trading Company",
        "decision": "match",
        "why": "daeseong / taesong",
    },
    {
        "left": "해주동방식품회사",
        "right": "HAEJU TONG BANG FOODSTUFFS CO LTD",
        "decision": "match",
        "why": "dongbang / tong bang",
    },
    {
        "left": "조선련봉총회사",
        "right": "조선련봉총회사 ",
        "decision": "match",
        "why": "hangul-hangul",
    },
    # Latin ↔ Latin.
    {
        "left": "NAMCHONGANG TRADING CORPORATION",
        "right": "NAM CHON GANG TRADING CORPORATION",
        "decision": "match",
        "why": "syllables apart",
    },
    {
        "left": "DALIAN HAIQING FOOD CO LTD",
        "right": "DALIAN HAIQNIG FOOD CO LTD",
        "decision": "match",
        "why": "typo",
    },
    {
        "left": "KOREA DAESONG BANK",
        "right": "TAESONG BANK",
        "decision": "match",
        "why": "d/t in Korean names",
    },
    {
        "left": "GENERAL BUREAU OF ATOMIC ENERGY (GBAE)",
        "right": "GBAE",
        "decision": "match",
        "why": "acronym",
    },
    {
        "left": "Trident Seafoods",
        "right": "TRIDENT SEAFOODS CORP",
        "decision": "match",
        "why": "buyer on a bill",
    },
    {"left": "HF Foods", "right": "HF FOODS GROUP INC", "decision": "match", "why": "short name"},
    {"left": "Walmart", "right": "Walmart Inc.", "decision": "match", "why": "legal form only"},
    {
        "left": "Donggang Jinhui Food",
        "right": "Dandong Jinhui Food",
        "decision": "match",
        "why": "Donggang lies in Dandong",
    },
    {
        "left": "大连海青食品有限公司 DALIAN HAIQING FOOD CO LTD",
        "right": "Dalian Haiqing Food",
        "decision": "match",
        "why": "bilingual field",
    },
    # Hard negatives.
    {
        "left": "大连海青食品有限公司",
        "right": "大连海清食品有限公司",
        "decision": "review",
        "why": "homophones: same pinyin, other characters",
    },
    {
        "left": "丹东泰丰食品有限公司",
        "right": "丹东泰峰食品有限公司",
        "decision": "review",
        "why": "homophones",
    },
    {
        "left": "Dalian Haiqing Food Co., Ltd.",
        "right": "Dandong Haiqing Food Co., Ltd.",
        "decision": "no-match",
        "why": "one name, two cities",
    },
    {
        "left": "Donggang Jinhui Food",
        "right": "Dalian Jinhui Food",
        "decision": "no-match",
        "why": "one name, two cities",
    },
    {
        "left": "丹东泰丰食品有限公司",
        "right": "丹东远一食品有限公司",
        "decision": "no-match",
        "why": "丹东 + 食品, other firm",
    },
    {
        "left": "Dandong Taifeng Foodstuffs Co., Ltd.",
        "right": "Dandong Taihua Foodstuffs Co., Ltd.",
        "decision": "no-match",
        "why": "one syllable apart",
    },
    {
        "left": "KOREA RYONBONG GENERAL CORPORATION",
        "right": "KOREA RUNGRADO GENERAL TRADING CORPORATION",
        "decision": "no-match",
        "why": "two sanctioned firms",
    },
    {
        "left": "HF Foods",
        "right": "High Liner Foods",
        "decision": "no-match",
        "why": "shared generic word",
    },
    {
        "left": "ORIENT OCEAN LOGISTICS AS AGENT FOR ZHOUSHAN BAOSHENG FOODSTUFF CO LTD",
        "right": "ZHOUSHAN BAOSHENG FOODSTUFF CO LTD",
        "decision": "no-match",
        "why": "forwarder, not the shipper",
    },
    {
        "left": "Dalian Haiqing Food No. 1 Plant",
        "right": "Dalian Haiqing Food No. 2 Plant",
        "decision": "no-match",
        "why": "numbered plants",
    },
    {
        "left": "Dalian Haiqing Food Co., Ltd.",
        "right": "Dalian Haiqing Food Co., Ltd. Branch",
        "decision": "review",
        "why": "branch vs company",
    },
    {
        "left": "丹东食品有限公司",
        "right": "丹东水产品有限公司",
        "decision": "review",
        "why": "generic names only",
    },
    # Countries.
    {
        "left": "Golden Harvest Seafood",
        "right": "Golden Harvest Seafood",
        "decision": "match",
        "why": "same country",
        "left_country": "us",
        "right_country": "us",
    },
]

LEGAL_FORMS = [
    ("有限公司", "Co., Ltd."),
    ("有限公司", "Company Limited"),
    ("股份有限公司", "Co., Ltd."),
    ("有限责任公司", "Limited Liability Company"),
    ("有限公司", "Corporation"),
    ("有限公司", "Corp."),
    ("有限公司", "Inc."),
    ("公司", "Company"),
    ("有限公司", "CO.,LTD"),
    ("有限公司", ""),
]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer()


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['left']}|{c['right']}")
def test_match_case(case: MatchCase, scorer: Scorer) -> None:
    result = scorer.compare_names(
        case["left"], case["right"], case.get("left_country"), case.get("right_country")
    )
    assert result.decision == case["decision"], (case["why"], result.score, result.explain())
    # The same answer whichever side a name is on.
    flipped = scorer.compare_names(
        case["right"], case["left"], case.get("right_country"), case.get("left_country")
    )
    assert flipped.score == result.score


@pytest.mark.parametrize(("zh", "en"), LEGAL_FORMS)
def test_legal_forms_do_not_separate_names(zh: str, en: str, scorer: Scorer) -> None:
    result = scorer.compare_names(f"大连海青食品{zh}", f"Dalian Haiqing Food {en}")
    assert result.decision == "match", result.explain()


def test_every_score_is_explained(scorer: Scorer) -> None:
    result = scorer.compare_names("大连海青食品有限公司", "DALIAN HAI QING FOOD CO.,LTD.")
    features = {c.feature: c for c in result.contributions}
    assert features["place_match"].detail == "dalian=dalian"
    assert features["concept_match"].detail == "@food"
    assert "haiqing" in features["words"].detail
    for c in result.contributions:
        assert c.contribution == pytest.approx(c.value * c.weight)
    assert result.to_dict()["features"][0]["feature"] == result.contributions[0].feature


def test_countries_in_conflict_lower_the_score(scorer: Scorer) -> None:
    same = scorer.compare_names("Golden Harvest Seafood", "Golden Harvest Seafood", "us", "us")
    other = scorer.compare_names("Golden Harvest Seafood", "Golden Harvest Seafood", "us", "cn")
    assert other.score <= same.score


ID_CASES = [
    # (left ids, right ids, left name, right name, expected decision, rule fragment)
    (
        [("uscc", "91210200MA0QC4XK3U")],
        [("uscc", "91210200MA0QC4XK3U")],
        "大连海青食品有限公司",
        "DALIAN HQ FOOD",
        "match",
        "identifier shared",
    ),
    (
        [("uscc", "91210200MA0QC4XK3U")],
        [("uscc", "91210600241180531C")],
        "大连海青食品有限公司",
        "Dalian Haiqing Food Co., Ltd.",
        "no-match",
        "identifier conflict uscc",
    ),
    (
        [("cn_establishment", "2100/02153")],
        [("cn_establishment", "2100/02154")],
        "Dalian Haiqing Food",
        "DALIAN HAIQING FOOD CO LTD",
        "no-match",
        "identifier conflict cn_establishment",
    ),
    (
        [("fei", "3012345678")],
        [("fei", "3012345679")],
        "Dalian Haiqing Food",
        "DALIAN HAIQING FOOD CO LTD",
        "no-match",
        "identifier conflict fei",
    ),
    (
        [("mmsi", "445123000")],
        [("mmsi", "445999000")],
        "Dalian Haiqing Food",
        "DALIAN HAIQING FOOD CO LTD",
        "match",
        "",
    ),
]


@pytest.mark.parametrize("case", ID_CASES, ids=lambda c: c[5] or "mmsi-no-conflict")
def test_identifier_cases(case: tuple, scorer: Scorer) -> None:  # type: ignore[type-arg]
    left_ids, right_ids, left_name, right_name, decision, rule = case
    left = Record("l", "Company", (left_name,), identifiers=tuple(Identifier(*i) for i in left_ids))
    right = Record(
        "r", "Company", (right_name,), identifiers=tuple(Identifier(*i) for i in right_ids)
    )
    result = scorer.compare_records(left, right)
    assert result.decision == decision, result.explain()
    if rule:
        assert any(rule in r for r in result.rules), result.rules


def test_schemata_that_cannot_merge_score_zero(scorer: Scorer) -> None:
    vessel = Record("v", "Vessel", ("DALIAN HAIQING",))
    company = Record("c", "Company", ("DALIAN HAIQING",))
    result = scorer.compare_records(vessel, company)
    assert result.score == 0 and result.rules


class RecordCase(TypedDict):
    """A store entity against a bill-of-lading party as the resolver reads them."""

    entity: dict[str, str]
    party: str
    party_country: NotRequired[str]
    party_schema: NotRequired[str]
    decision: Literal["match", "review", "no-match"]
    why: str


# The investigation's plant as ``import case`` stores it (a Facility with country and
# place), and a registry plant; the parties as ``resolve`` reads them from the trade records.
CASE_PLANT = {
    "schema": "Facility",
    "name": "Dalian Haiqing Food",
    "country": "cn",
    "province": "Liaoning",
    "city": "Dalian",
}
REGISTRY_PLANT = {
    "schema": "Facility",
    "name": "大连海青食品有限公司",
    "approvalCode": "2100/02153",
    "country": "cn",
    "city": "Dalian",
}
RECORD_CASES: list[RecordCase] = [
    {
        "entity": CASE_PLANT,
        "party": "DALIAN HAIQING FOODS CO.,LTD",
        "decision": "match",
        "why": "a plant known by name only = its firm on a bill (legal form, plural)",
    },
    {
        "entity": CASE_PLANT,
        "party": "DALIAN HAIQING FOODS CO.,LTD",
        "party_country": "CN",
        "decision": "match",
        "why": "the same with the shipper's country",
    },
    {
        "entity": CASE_PLANT,
        "party": "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD, DALIAN",
        "decision": "match",
        "why": "spaced pinyin and an address in the name field",
    },
    {
        "entity": REGISTRY_PLANT,
        "party": "DALIAN HAIQING FOODS CO.,LTD",
        "decision": "match",
        "why": "a registry plant in Chinese = its firm on a bill",
    },
    {
        "entity": CASE_PLANT,
        "party": "DANDONG HAIQING FOODS CO.,LTD",
        "decision": "no-match",
        "why": "one trade name, another city",
    },
    {
        "entity": CASE_PLANT,
        "party": "DALIAN HAIQING",
        "party_schema": "Vessel",
        "decision": "no-match",
        "why": "a vessel named after the firm is not the plant",
    },
]


@pytest.mark.parametrize("case", RECORD_CASES, ids=[c["why"] for c in RECORD_CASES])
def test_store_entity_against_party(case: RecordCase, scorer: Scorer) -> None:
    from tidetrace.model import model
    from tidetrace.resolve.records import from_entity, from_party
    from tidetrace.resolve.run import PARTY_SCHEMA

    entity = model.make_entity(case["entity"]["schema"])
    entity.id = "plant"
    for prop, value in case["entity"].items():
        if prop != "schema":
            entity.add(prop, value)
    left = from_entity(entity)
    assert left is not None
    right = from_party(
        "party",
        case["party"],
        country=case.get("party_country"),
        schema=case.get("party_schema", PARTY_SCHEMA),
    )
    result = scorer.compare_records(left, right)
    assert result.decision == case["decision"], (case["why"], result.score, result.explain())
