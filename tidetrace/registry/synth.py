"""A synthetic establishment registry in the generic CSV layout, plainly marked as invented.

No real list of Chinese seafood plants with their codes can be shipped, so benchmarks and
the demo's lookup run on this one until a real list is fetched. Codes have the real shape
and real province prefixes (weighted towards the coastal seafood provinces); names follow
the real pattern of city + trade name + company type, in Chinese and English, on two rows
per plant. Every row's ``source`` starts with ``synthetic:``, which makes the ingest file
it under a ``synthetic_*`` dataset and mark every entry as not real.

Trade names that are the investigation's plants (Jinhui, Haimeng, Taifeng …) are never
generated, so an invented entry cannot be mistaken for, or linked to, a real plant.
"""

import csv
import random
from dataclasses import dataclass
from typing import IO

from tidetrace.registry.ingest import GENERIC_COLUMNS, SYNTHETIC_PREFIX

__all__ = ["SyntheticPlant", "generate", "write_csv"]

# Province prefix → weight and seafood cities (English, Chinese).
PROVINCES: dict[str, tuple[int, list[tuple[str, str]]]] = {
    "21": (
        18,
        [
            ("Dalian", "大连"),
            ("Dandong", "丹东"),
            ("Donggang", "东港"),
            ("Yingkou", "营口"),
            ("Huludao", "葫芦岛"),
            ("Jinzhou", "锦州"),
        ],
    ),
    "37": (
        22,
        [
            ("Qingdao", "青岛"),
            ("Yantai", "烟台"),
            ("Weihai", "威海"),
            ("Rongcheng", "荣成"),
            ("Rizhao", "日照"),
            ("Shidao", "石岛"),
        ],
    ),
    "35": (14, [("Fuzhou", "福州"), ("Xiamen", "厦门"), ("Zhangzhou", "漳州"), ("Ningde", "宁德")]),
    "33": (
        12,
        [("Zhoushan", "舟山"), ("Ningbo", "宁波"), ("Taizhou", "台州"), ("Wenzhou", "温州")],
    ),
    "44": (10, [("Zhanjiang", "湛江"), ("Shantou", "汕头"), ("Yangjiang", "阳江")]),
    "32": (5, [("Lianyungang", "连云港"), ("Nantong", "南通"), ("Yancheng", "盐城")]),
    "46": (4, [("Haikou", "海口"), ("Sanya", "三亚")]),
    "45": (3, [("Beihai", "北海"), ("Fangchenggang", "防城港")]),
    "22": (3, [("Hunchun", "珲春"), ("Yanji", "延吉")]),
    "23": (2, [("Suifenhe", "绥芬河"), ("Harbin", "哈尔滨")]),
    "13": (3, [("Qinhuangdao", "秦皇岛"), ("Tangshan", "唐山")]),
    "12": (2, [("Tianjin", "天津")]),
    "31": (2, [("Shanghai", "上海")]),
}
PROVINCE_NAMES = {
    "21": "Liaoning",
    "37": "Shandong",
    "35": "Fujian",
    "33": "Zhejiang",
    "44": "Guangdong",
    "32": "Jiangsu",
    "46": "Hainan",
    "45": "Guangxi",
    "22": "Jilin",
    "23": "Heilongjiang",
    "13": "Hebei",
    "12": "Tianjin",
    "31": "Shanghai",
}
# Characters of trade names, with their pinyin.
SYLLABLES = [
    ("海", "hai"),
    ("洋", "yang"),
    ("丰", "feng"),
    ("盛", "sheng"),
    ("源", "yuan"),
    ("祥", "xiang"),
    ("鑫", "xin"),
    ("华", "hua"),
    ("泰", "tai"),
    ("龙", "long"),
    ("宝", "bao"),
    ("利", "li"),
    ("达", "da"),
    ("恒", "heng"),
    ("润", "run"),
    ("嘉", "jia"),
    ("瑞", "rui"),
    ("富", "fu"),
    ("旺", "wang"),
    ("德", "de"),
    ("金", "jin"),
    ("兴", "xing"),
    ("远", "yuan"),
    ("鹏", "peng"),
    ("晟", "sheng"),
    ("诚", "cheng"),
    ("冠", "guan"),
    ("明", "ming"),
    ("益", "yi"),
    ("阳", "yang"),
]
# The investigation's plants: never generated.
RESERVED = frozenset(
    {"jinhui", "yuanyi", "xinxin", "haimeng", "omeca", "taifeng", "galicia", "haiqing"}
)
COMPANY_TYPES = [
    ("食品有限公司", "Food Co., Ltd."),
    ("水产有限公司", "Aquatic Products Co., Ltd."),
    ("海产食品有限公司", "Seafood Co., Ltd."),
    ("水产品加工厂", "Aquatic Products Processing Plant"),
    ("冷藏有限公司", "Cold Storage Co., Ltd."),
    ("食品进出口有限公司", "Foodstuffs Import & Export Co., Ltd."),
    ("海洋食品有限公司", "Ocean Food Co., Ltd."),
    ("水产食品有限公司", "Aquatic Foodstuffs Co., Ltd."),
]
ACTIVITIES = [
    ["Processing plant"],
    ["Processing plant", "Cold store"],
    ["Cold store"],
    ["Processing plant", "Cold store", "Freezer vessel"],
]
SECTION = "Fishery products (Section VIII)"


@dataclass(frozen=True)
class SyntheticPlant:
    """One invented plant."""

    code: str
    name_en: str
    name_zh: str
    city: str
    province: str
    activities: tuple[str, ...]
    listed_on: str


def generate(count: int, seed: int) -> list[SyntheticPlant]:
    """``count`` invented plants, the same for the same seed.

    Args:
        count: how many plants (1 to 200,000).
        seed: random seed.
    """
    if not 1 <= count <= 200_000:
        raise ValueError("count must be between 1 and 200,000")
    rng = random.Random(seed)  # noqa: S311 - reproducible invented data, not secrets
    prefixes = list(PROVINCES)
    weights = [PROVINCES[p][0] for p in prefixes]
    codes: set[str] = set()
    names: set[str] = set()
    plants: list[SyntheticPlant] = []
    while len(plants) < count:
        prefix = rng.choices(prefixes, weights)[0]
        # Most plants sit under the province's main region (NN00); some under a sub-region.
        region = f"{prefix}00" if rng.random() < 0.8 else f"{prefix}{rng.randint(1, 9):02d}"
        # Aquatic-product serials cluster in 02xxx on published lists; spill over when full.
        serial = (
            f"02{rng.randint(0, 999):03d}" if rng.random() < 0.6 else f"{rng.randint(1, 99999):05d}"
        )
        code = f"{region}/{serial}"
        if code in codes or serial == "00000":
            continue
        city_en, city_zh = rng.choice(PROVINCES[prefix][1])
        (c1, p1), (c2, p2) = rng.sample(SYLLABLES, 2)
        brand = f"{p1}{p2}"
        if brand in RESERVED:
            continue
        kind_zh, kind_en = rng.choice(COMPANY_TYPES)
        name_en = f"{city_en} {brand.capitalize()} {kind_en}"
        if name_en in names:
            continue
        codes.add(code)
        names.add(name_en)
        year = rng.randint(2004, 2024)
        plants.append(
            SyntheticPlant(
                code=code,
                name_en=name_en,
                name_zh=f"{city_zh}{c1}{c2}{kind_zh}",
                city=city_en,
                province=PROVINCE_NAMES[prefix],
                activities=tuple(rng.choice(ACTIVITIES)),
                listed_on=f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            )
        )
    return plants


def write_csv(plants: list[SyntheticPlant], fh: IO[str], seed: int) -> int:
    """Write plants in the generic layout, English and Chinese name on two rows each.

    Returns:
        The number of rows written (without the header).
    """
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(GENERIC_COLUMNS)
    source = f"{SYNTHETIC_PREFIX}tidetrace synth registry seed={seed} (invented, not a real list)"
    rows = 0
    for plant in plants:
        for name in (plant.name_en, plant.name_zh):
            writer.writerow(
                [
                    plant.code,
                    name,
                    plant.city,
                    plant.province,
                    "CN",
                    "; ".join(plant.activities),
                    SECTION,
                    plant.listed_on,
                    source,
                ]
            )
            rows += 1
    return rows
