"""Synthetic firms for the benchmark: Chinese plants, Korean traders, Western importers.

Each firm has the forms a registry would list (Chinese name and its registered English
name; Hangul and a McCune-Reischauer English name) and bill-of-lading variants made with
the noise seen on real bills: capitals, ``CO.,LTD`` spelled every way, syllables written
apart, one-letter typos, names cut at the 35-character field width, addresses run into the
name, legal forms or places dropped. ``tidetrace.shipments.synth`` and
``tidetrace.registry.synth`` did not exist when this was written; when they do, their names
can replace these (see README).

Translations of trade words follow common practice on EU and FDA lists, including some
that tidetrace's vocabulary does not list ("Sea Treasure", "Marine Delicacies"), so the
vocabulary is not tested only on itself.
"""

import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pypinyin import Style, lazy_pinyin

from bench.linkage.mr import romanize_mr

# Chinese coastal cities of the seafood trade (hanzi, pinyin as registered).
CN_PLACES = [
    ("丹东", "Dandong"), ("东港", "Donggang"), ("大连", "Dalian"), ("青岛", "Qingdao"),
    ("荣成", "Rongcheng"), ("舟山", "Zhoushan"), ("烟台", "Yantai"), ("威海", "Weihai"),
    ("石岛", "Shidao"), ("日照", "Rizhao"), ("湛江", "Zhanjiang"), ("厦门", "Xiamen"),
    ("福州", "Fuzhou"), ("宁波", "Ningbo"), ("葫芦岛", "Huludao"), ("营口", "Yingkou"),
    ("珲春", "Hunchun"), ("龙口", "Longkou"), ("庄河", "Zhuanghe"), ("连云港", "Lianyungang"),
]  # fmt: skip
# Characters common in Chinese firms' own names (字号).
CN_NAME_CHARS = list(
    "海青泰丰金汇鑫远一华盛源宏祥富达恒隆兴昌利新方龙凤宝星光明永安康福德顺嘉和美佳润天洋鲜蓝湾港"
    "晨阳春瑞鹏辉威正大宇通中信成亿万林森联合益鸿运峰旺晟泓"
)
# Industry words (hanzi) and their English renderings, most common first.
CN_INDUSTRY = [
    ("食品", ["Food", "Foodstuffs", "Foods", "Foodstuff"]),
    ("水产品", ["Aquatic Products", "Aquatic Product", "Seafood"]),
    ("海产品", ["Marine Products", "Seafood", "Sea Products"]),
    ("水产", ["Aquatic Products", "Fishery", "Aquatic"]),
    ("海洋食品", ["Marine Food", "Marine Foods", "Ocean Food"]),
    ("冷藏", ["Cold Storage", "Cold Store"]),
    ("冷冻食品", ["Frozen Food", "Frozen Foods"]),
    ("渔业", ["Fishery", "Fisheries"]),
    ("水产食品", ["Aquatic Food", "Aquatic Foodstuffs"]),
    ("海珍品", ["Sea Treasure", "Marine Delicacies"]),
]
CN_EXTRA = [
    ("", [""]), ("", [""]), ("", [""]),
    ("进出口", ["Import & Export", "Imp. & Exp.", "Import and Export"]),
    ("贸易", ["Trading", "Trade"]),
]  # fmt: skip
CN_LEGAL = [
    ("有限公司", ["Co., Ltd.", "Co., Ltd.", "Company Limited", "Co.,Ltd"]),
    ("股份有限公司", ["Co., Ltd.", "Joint Stock Co., Ltd."]),
    ("有限责任公司", ["Co., Ltd.", "Limited Liability Company"]),
]
ROADS = ["Huanghai", "Binhai", "Gangwan", "Xingfu", "Renmin", "Jiefang", "Haibin", "Yalu"]

KP_PLACES = ["평양", "남포", "원산", "청진", "신의주", "라선", "해주", "함흥", "조선"]
KP_NAMES = [
    "련봉", "대성", "금강", "백두", "만경", "릉라", "보통", "류경", "광명", "천리",
    "대동", "칠보", "은하", "해금", "장생", "고려", "새별", "룡악", "묘향", "송림",
    "명신", "신흥", "붉은별", "삼천", "해성", "동방", "금별", "청송", "흥진", "혁신",
]  # fmt: skip
KP_INDUSTRY = [
    ("수산", ["Fisheries", "Fishery"]),
    ("수산물", ["Marine Products", "Aquatic Products"]),
    ("식품", ["Foodstuffs", "Food"]),
    ("무역", ["Trading"]),
    ("수출입", ["Export and Import", "Import and Export"]),
]
KP_LEGAL = [("회사", ["Company", "Corporation"]), ("총회사", ["General Corporation"])]

US_FIRST = [
    "Blue", "Ocean", "Pacific", "Atlantic", "Golden", "North", "Sea", "Harbor", "Coastal",
    "Bay", "Star", "Crystal", "Royal", "Eastern", "Western", "Global", "Prime", "Arctic",
    "Silver", "Fresh", "Island", "Anchor", "Neptune", "Trident", "Liberty", "Summit",
]  # fmt: skip
US_SECOND = [
    "Wave", "Catch", "Fisheries", "Harvest", "Reef", "Tide", "Shore", "Point", "Ridge",
    "Crest", "Market", "Valley", "Bridge", "Fleet", "Port", "Cove",
]  # fmt: skip
US_INDUSTRY = ["Seafood", "Seafoods", "Foods", "Fish Company", "Seafood Imports", "Trading"]
US_LEGAL = ["Inc.", "LLC", "Corp.", "Co.", "Ltd."]


@dataclass
class Firm:
    """A synthetic firm and the names it goes by.

    Attributes:
        id: a stable id.
        kind: cn (Chinese plant), kp (Korean trader) or us (importer).
        country: ISO alpha-2, lower case.
        parts: what it was built from (for building hard negatives).
        native: the name in Chinese or Korean ('' for importers).
        english: the registered English name.
        extra: further forms (traditional Chinese, pinyin-only).
    """

    id: str
    kind: str
    country: str
    parts: dict[str, str]
    native: str
    english: str
    extra: list[str] = field(default_factory=list)


@cache
def _s2t() -> Any:
    import opencc

    return opencc.OpenCC("s2t")


def _pinyin(han: str, spaced: bool = False) -> str:
    syllables = lazy_pinyin(han, style=Style.NORMAL, v_to_u=True)
    text = " ".join(syllables) if spaced else "".join(syllables)
    return text.replace("ü", "u").title()


def cn_firm(rng: random.Random, index: int, place: tuple[str, str] | None = None,
            own: str | None = None, industry: int | None = None) -> Firm:  # fmt: skip
    """A Chinese seafood plant; any part can be fixed to build hard negatives."""
    zh_place, en_place = place or rng.choice(CN_PLACES)
    own = own or "".join(rng.sample(CN_NAME_CHARS, 2))
    ind_zh, ind_en = CN_INDUSTRY[
        industry if industry is not None else rng.randrange(len(CN_INDUSTRY))
    ]
    extra_zh, extra_en = rng.choice(CN_EXTRA)
    legal_zh, legal_en = rng.choice(CN_LEGAL)
    city_suffix = rng.choice(["", "", "市"])
    native = f"{zh_place}{city_suffix}{own}{ind_zh}{extra_zh}{legal_zh}"
    english_parts = [en_place, _pinyin(own, spaced=rng.random() < 0.1), rng.choice(ind_en)]
    extra_pick = rng.choice(extra_en)
    if extra_pick:
        english_parts.append(extra_pick)
    english_parts.append(rng.choice(legal_en))
    english = " ".join(english_parts)
    trad = _s2t().convert(native)
    pinyin_only = " ".join(
        [_pinyin(zh_place), _pinyin(own), _pinyin(ind_zh), _pinyin(legal_zh, spaced=True)]
    )
    return Firm(
        id=f"cn-{index}",
        kind="cn",
        country="cn",
        parts={"place": zh_place, "own": own, "industry": ind_zh},
        native=native,
        english=english,
        extra=[trad, pinyin_only],
    )


def kp_firm(rng: random.Random, index: int, own: str | None = None,
            industry: int | None = None) -> Firm:  # fmt: skip
    """A North Korean trading firm, in Hangul and McCune-Reischauer English."""
    place = rng.choice(KP_PLACES)
    own = own or rng.choice(KP_NAMES)
    ind_ko, ind_en = KP_INDUSTRY[
        industry if industry is not None else rng.randrange(len(KP_INDUSTRY))
    ]
    legal_ko, legal_en = rng.choice(KP_LEGAL)
    native = f"{place}{own}{ind_ko}{legal_ko}"
    place_en = "Korea" if place == "조선" else romanize_mr(place).title()
    own_en = romanize_mr(own, spaced=rng.random() < 0.2).title()
    english = f"{place_en} {own_en} {rng.choice(ind_en)} {rng.choice(legal_en)}"
    return Firm(
        id=f"kp-{index}",
        kind="kp",
        country="kp",
        parts={"place": place, "own": own, "industry": ind_ko},
        native=native,
        english=english,
    )


def us_firm(rng: random.Random, index: int, first: str | None = None) -> Firm:
    """A Western importer or distributor."""
    first = first or rng.choice(US_FIRST)
    second = rng.choice(US_SECOND)
    english = f"{first} {second} {rng.choice(US_INDUSTRY)} {rng.choice(US_LEGAL)}"
    return Firm(
        id=f"us-{index}",
        kind="us",
        country="us",
        parts={"first": first, "second": second},
        native="",
        english=english,
    )


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["drop", "swap", "sub", "double"])
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("AEIOUNGHS") + word[i + 1 :]


_LEGAL_BOL = ["CO.,LTD.", "CO., LTD", "CO LTD", "CO.,LTD", "COMPANY LIMITED", "CO., LIMITED", "LTD"]


def bol_variant(rng: random.Random, firm: Firm) -> str:
    """A bill-of-lading spelling of the firm's English name."""
    words = firm.english.upper().replace(",", " ").replace(".", " ").split()
    # Legal form: respelled, or dropped.
    legal_words = {"CO", "LTD", "COMPANY", "LIMITED", "INC", "LLC", "CORP", "CORPORATION"}
    core = [w for w in words if w not in legal_words]
    if firm.kind != "us" and rng.random() < 0.8:
        core = core + rng.choice(_LEGAL_BOL).split()
    elif firm.kind == "us" and rng.random() < 0.7:
        core = [*core, rng.choice(["INC", "LLC", "CORP", "CO"])]
    text_words = core
    if rng.random() < 0.25:
        text_words = [_typo(rng, w) if rng.random() < 0.4 else w for w in text_words]
    if firm.kind == "cn" and "own" in firm.parts and rng.random() < 0.25:
        # Syllables of the own name written apart: HAIQING → HAI QING.
        own = _pinyin(firm.parts["own"]).upper()
        spaced = _pinyin(firm.parts["own"], spaced=True).upper()
        text_words = " ".join(text_words).replace(own, spaced).split()
    if rng.random() < 0.15:
        text_words = [w.replace("FOODSTUFFS", "FOODS").replace("FOOD", "FOODS") for w in text_words]
        text_words = [w.replace("FOODSS", "FOODS") for w in text_words]
    if firm.kind != "us" and rng.random() < 0.1 and len(text_words) > 3:
        text_words = text_words[1:]  # place dropped (importers' names start with no place)
    if rng.random() < 0.15:
        text_words = [
            {"IMPORT": "IMP", "EXPORT": "EXP", "INTERNATIONAL": "INTL", "AND": "&"}.get(w, w)
            for w in text_words
        ]
    text = " ".join(text_words)
    if rng.random() < 0.3:
        text = text[:35].rstrip()
    if rng.random() < 0.3:
        road = rng.choice(ROADS).upper()
        number = rng.randint(1, 288)
        if firm.kind == "us":
            text += f" {number} {rng.choice(['MAIN', 'HARBOR', 'OCEAN'])} ST SEATTLE WA"
        else:
            text += f" NO.{number} {road} ROAD"
    return text
