"""The name pipeline: scripts, segmentation, vocabulary, places, legal forms, addresses.

Every entry of the YAML word lists is checked in context, so a new entry that the
segmenter cannot find (or that another entry shadows) fails here.
"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from tidetrace.resolve.lexicon import DATA_DIR, latin_words, lexicon, pinyin_split
from tidetrace.resolve.names import analyze, split_address, to_simplified


def render(name: str) -> list[str]:
    return [f.render() for f in analyze(name)]


# Issue 6: the same plant in a Chinese registry, an EU list and two bills of lading.
@pytest.mark.parametrize(
    "name",
    [
        "大连海青食品有限公司",
        "大連海青食品有限公司",
        "Dalian Haiqing Food Co., Ltd.",
        "DALIAN HAIQING FOODS CO LTD",
        "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD",
        "ＤＡＬＩＡＮ　ＨＡＩＱＩＮＧ　ＦＯＯＤ　ＣＯ．，ＬＴＤ．",
        "Dalian Haiqing Shipin Youxian Gongsi",
    ],
)
def test_one_plant_many_spellings_one_token_sequence(name: str) -> None:
    assert render(name) == ["dalian haiqing @food #company"]


def test_address_folded_into_the_name_is_split_off() -> None:
    form = analyze("DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD")[0]
    assert form.address == "NO.1 HUANGHAI ROAD"
    form = analyze("大连海青食品有限公司大连市甘井子区海青路1号")[0]
    assert form.address == "大连市甘井子区海青路1号"
    form = analyze("GLOBAL WAVE FISH 192 MAIN ST SEATTLE WA")[0]
    assert form.address == "192 MAIN ST SEATTLE WA"
    assert form.render() == "@international wave @fish"


def test_a_plant_number_is_not_an_address() -> None:
    assert split_address("DALIAN HAIQING FOOD NO. 2 PLANT") == (
        "DALIAN HAIQING FOOD NO. 2 PLANT",
        None,
    )
    assert analyze("Dalian Haiqing Food No. 2 Plant")[0].numbers == {"2"}


def test_agents_principal_is_not_part_of_the_name() -> None:
    form = analyze("ORIENT OCEAN LOGISTICS AS AGENT FOR ZHOUSHAN BAOSHENG FOODSTUFF CO LTD")[0]
    assert "baosheng" not in form.words
    assert form.principal == "ZHOUSHAN BAOSHENG FOODSTUFF CO LTD"


def test_bilingual_field_becomes_two_names() -> None:
    forms = analyze("大连海青食品有限公司 DALIAN HAIQING FOOD CO LTD")
    assert [f.scripts for f in forms] == [frozenset({"han"}), frozenset({"latin"})]


def test_parenthesised_acronym_is_a_name_of_its_own() -> None:
    assert render("GENERAL BUREAU OF ATOMIC ENERGY (GBAE)")[-1] == "gbae"


def test_segmentation_prefers_fewer_scattered_leftovers() -> None:
    # 东北|海产品, not 东|北海|产品; 威海|洋合|渔业, not 威|海洋|合|渔业.
    assert render("东北海产品有限公司") == ["dongbei @seafood #company"]
    assert render("威海洋合渔业贸易有限公司") == ["weihai yanghe @fishery @trading #company"]


def test_long_own_names_are_cut_by_jieba_and_single_characters_rejoined() -> None:
    form = analyze("丹东欧美卡食品有限公司")[0]
    assert form.words == ("oumeika",)
    assert form.han_words == {"欧美卡"}


def test_pinyin_spacing_is_undone() -> None:
    for name in ("HENG TAI LONG FOOD", "HENGTAI LONG FOOD", "HENGTAILONG FOOD"):
        assert analyze(name)[0].words == ("hengtailong",)
    # "an" is a syllable of the name here, not an English word to drop.
    assert analyze("Lianyungang Run An Foodstuff")[0].words == ("runan",)


def test_typos_of_vocabulary_and_places_are_repaired() -> None:
    assert render("WEIHAI TONGYUAAN FISHEERY LIABILITY") == ["weihai tongyuaan @fishery #company"]
    assert render("ADLIAN SHENGLIN OCEAN FOOD")[0].startswith("dalian shenglin")
    # A pinyin word near a place or a vocabulary word is a firm's name, not a typo.
    assert render("YANTAI TAILAN AQUATIC")[0] == "yantai tailan @aquatic"
    assert render("DALIAN QINGDA SEA TREASURE")[0].startswith("dalian qingda")


def test_korean_names_are_romanised_and_segmented() -> None:
    assert render("조선련봉총회사") == ["korea ryeonbong #company"]
    assert render("평양수산물무역회사") == ["pyongyang @aquatic @trading #company"]
    assert analyze("조선련봉총회사")[0].korean
    assert analyze("KOREA RYONBONG GENERAL CORPORATION")[0].korean
    assert not analyze("DALIAN HAIQING FOOD")[0].korean


def test_generic_names_fall_back_to_places_and_concepts() -> None:
    form = analyze("KOREA MINING DEVELOPMENT TRADING CORPORATION")[0]
    assert form.generic
    assert form.words == ("korea", "@mining", "@development", "@trading")


def test_traditional_to_simplified() -> None:
    assert to_simplified("大連遠一精製海產品") == "大连远一精制海产品"


def test_pinyin_split() -> None:
    assert pinyin_split("zhongfeng") == ("zhong", "feng")
    assert pinyin_split("fisheery") is None
    assert pinyin_split("daalian") is None  # one-letter syllables do not count
    assert latin_words("CH'O'NGSONG YO'NHAP & CO") == ["chongsong", "yonhap", "and", "co"]


def _entries(name: str, section: str) -> list[tuple[str, str, str]]:
    data: dict[str, Any] = yaml.safe_load(Path(DATA_DIR / name).read_text(encoding="utf-8"))
    out = []
    for key, spec in data[section].items():
        for lang in ("zh", "ko", "en"):
            for form in spec.get(lang, []):
                out.append((key, lang, str(form)))
    return out


def _in_context(lang: str, form: str) -> str:
    if lang == "zh":
        return f"大连海青{form}有限公司"
    if lang == "ko":
        return f"평양대성{form}회사"
    return f"Dalian Haiqing {form} Co Ltd"


@pytest.mark.parametrize(
    ("key", "lang", "form"), _entries("vocabulary.yml", "concepts"), ids=lambda v: str(v)
)
def test_every_vocabulary_entry_becomes_its_concept(key: str, lang: str, form: str) -> None:
    tokens = [t.text for f in analyze(_in_context(lang, form)) for t in f.tokens]
    assert f"@{key}" in tokens, tokens


@pytest.mark.parametrize(("key", "lang", "form"), _entries("places.yml", "places"), ids=str)
def test_every_place_entry_becomes_its_place(key: str, lang: str, form: str) -> None:
    name = {"zh": f"{form}海青食品有限公司", "ko": f"{form}대성무역회사"}.get(
        lang, f"{form} Haiqing Food Co Ltd"
    )
    places = {p for f in analyze(name) for p in f.places}
    assert key in places, (name, places)


@pytest.mark.parametrize(("key", "lang", "form"), _entries("legal_forms.yml", "classes"), ids=str)
def test_every_legal_form_is_recognised(key: str, lang: str, form: str) -> None:
    name = {"zh": f"大连海青食品{form}", "ko": f"평양대성무역{form}"}.get(
        lang, f"Dalian Haiqing Food {form}"
    )
    legal = {t.text for f in analyze(name) for t in f.tokens if t.kind == "legal"}
    assert f"#{key}" in legal, (name, [f.render() for f in analyze(name)])


def test_rigour_legal_forms_are_mapped() -> None:
    # rigour finds these; legal_forms.yml says which class they are.
    for name in ("ACME GMBH", "ACME LLC", "ACME JSC", "ACME INC", "ACME PTE LTD"):
        assert "#company" in analyze(name)[0].legal, name
    assert lexicon().rigour_forms["coltd"] == "#company"
