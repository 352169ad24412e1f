"""Build the labelled pair set ``data/pairs.csv`` (deterministic: same seed, same file).

Sources of names, each a *group* of names of one entity:

* **Sanctions lists (real)**: the UN 1718 committee's entities and OFAC's DPRK entities
  with all their aliases; a UN and an OFAC entry that share a name exactly are one group.
* **Investigation (real)**: the case's plants and buyers, with the spellings the issue and
  the field notes quote (大连海青食品有限公司, "DALIAN HAI QING FOOD CO.,LTD. NO.1 …",
  丹东泰丰食品有限公司) and bill-of-lading spellings generated from the real names.
* **Synthetic registry firms**: Chinese plants (Chinese, traditional, registered English,
  pinyin-only), North Korean traders (Hangul, McCune-Reischauer English) and Western
  importers, each with bill-of-lading variants (:mod:`bench.linkage.synth`).

Positives are two names of one group. Each sanctions pair is marked ``variant`` when the
names share a distinctive word (one used by at most three groups in the lists, or a near
spelling of one) and ``other-name`` otherwise (cover names, previous names, acronyms:
"GREEN PINE ASSOCIATED CORPORATION" / "JINDALLAE"), a split made from the data alone,
before any system ran. Negatives are two groups' names sharing words: DPRK entities with
common words, 丹东 + 食品 firms, one own name in two cities, homophone own names
(海青/海清), importers with one word in common.

Groups are split 60/40 into ``tune`` and ``holdout`` by a hash of their id, and negative
pairs are drawn within a split, so no name of a held-out entity is ever seen in tuning.
"""

import csv
import hashlib
import itertools
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz.distance import JaroWinkler

from bench.linkage import synth
from tidetrace.sources import case, ofac_sdn, un_sc

HERE = Path(__file__).parent
OUT = HERE / "data" / "pairs.csv"
SHARED = (HERE.parents[1] / ".." / "shared" / "data").resolve()
SEED = 20261123
COLUMNS = [
    "pair_id", "left", "right", "left_country", "right_country", "label", "source",
    "relation", "scripts", "split",
]  # fmt: skip
HOMOPHONES = {
    "青": "清", "丰": "峰", "汇": "惠", "鑫": "新", "盛": "胜", "源": "元", "宏": "鸿",
    "祥": "翔", "隆": "龙", "利": "力", "华": "化", "达": "大", "福": "富", "运": "云",
}  # fmt: skip


@dataclass
class Group:
    """Names of one entity."""

    id: str
    source: str
    country: str
    names: list[str]
    firm: synth.Firm | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def split(self) -> str:
        digest = hashlib.sha256(f"{SEED}:{self.id}".encode()).digest()
        return "holdout" if digest[0] < 102 else "tune"  # 102/256 ≈ 40 %


def _words(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", name.lower()) if len(w) >= 3}


@cache
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def scripts(name: str) -> str:
    """Which script a name is in: han, hant (traditional), hangul or latin."""
    if any(0xAC00 <= ord(c) <= 0xD7A3 for c in name):
        return "hangul"
    if any(0x4E00 <= ord(c) <= 0x9FFF for c in name):
        simple = _t2s().convert(name)
        return "hant" if simple != name else "han"
    return "latin"


def sanctions_groups() -> list[Group]:
    """UN 1718 and OFAC DPRK entities (not people or vessels), merged on an exact name."""
    data = SHARED / "sanctions"
    entries: list[tuple[str, str, list[str]]] = []
    for entity in un_sc.parse(data / "un_sc_consolidated_2026-02-27.xml", program="DPRK"):
        if entity.schema.name in ("Company", "Organization", "LegalEntity"):
            entries.append((entity.id or "", "un_sc", _entity_names(entity)))
    sdn = data / "ofac_sdn_2024-05-03.csv"
    alt, add = data / "ofac_alt_2025-12.csv", data / "ofac_add_2025-12.csv"
    for entity in ofac_sdn.parse(sdn, alt, add, program="DPRK"):
        if entity.schema.name in ("Company", "Organization", "LegalEntity"):
            entries.append((entity.id or "", "ofac_sdn", _entity_names(entity)))
    # Union-find over entries sharing an exact (case- and punctuation-folded) name.
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, (_, _, names) in enumerate(entries):
        for name in names:
            key = " ".join(re.findall(r"[a-z0-9]+", name.lower()))
            if key in seen:
                parent[find(i)] = find(seen[key])
            else:
                seen[key] = i
    merged: dict[int, Group] = {}
    for i, (eid, source, names) in enumerate(entries):
        root = find(i)
        group = merged.setdefault(root, Group(eid, source, "kp", []))
        if source not in group.source:
            group.source += "+" + source
        for name in names:
            if name not in group.names:
                group.names.append(name)
    return [g for g in merged.values() if g.names]


def _entity_names(entity: object) -> list[str]:
    out: list[str] = []
    for prop in ("name", "alias", "previousName", "weakAlias"):
        out.extend(entity.get(prop, quiet=True))  # type: ignore[attr-defined]
    return list(dict.fromkeys(out))


# Spellings quoted in the issue and the field notes, per case plant.
CASE_SPELLINGS = {
    "case-plant-haiqing": [
        "大连海青食品有限公司",
        "Dalian Haiqing Food Co., Ltd.",
        "DALIAN HAIQING FOODS CO LTD",
        "DALIAN HAI QING FOOD CO.,LTD. NO.1 HUANGHAI ROAD",
        "Dalian Haiqing Foods",
    ],
    "case-plant-taifeng": ["丹东泰丰食品有限公司", "Dandong Taifeng Foodstuffs Co., Ltd."],
}


def case_groups(rng: random.Random) -> list[Group]:
    """The investigation's plants and named buyers, with quoted and bill-of-lading spellings."""
    groups: list[Group] = []
    for entity in case.parse(SHARED / "investigation"):
        if entity.schema.name not in ("Facility", "Company"):
            continue
        name = entity.first("name")
        if name is None or "unnamed" in name:
            continue
        country = (entity.first("country") or "").lower()
        names = [name, *CASE_SPELLINGS.get(entity.id or "", [])]
        kind = "cn" if entity.schema.name == "Facility" else "us"
        firm = synth.Firm(entity.id or "", kind, country, {}, "", name)
        for _ in range(3):
            names.append(synth.bol_variant(rng, firm))
        groups.append(Group(entity.id or "", "case", country, list(dict.fromkeys(names)), firm))
    return groups


def synthetic_groups(rng: random.Random) -> tuple[list[Group], list[tuple[Group, Group, str]]]:
    """Synthetic firms, and the hard negatives built with them (sibling groups)."""
    groups: list[Group] = []
    siblings: list[tuple[Group, Group, str]] = []

    def group_of(firm: synth.Firm, bol: int = 3) -> Group:
        names = [n for n in [firm.native, firm.english, *firm.extra] if n]
        names += [synth.bol_variant(rng, firm) for _ in range(bol)]
        return Group(
            firm.id, f"synthetic-{firm.kind}", firm.country, list(dict.fromkeys(names)), firm
        )

    counter = itertools.count()
    for _ in range(420):
        firm = synth.cn_firm(rng, next(counter))
        group = group_of(firm)
        groups.append(group)
        roll = rng.random()
        place = next(p for p in synth.CN_PLACES if p[0] == firm.parts["place"])
        industry = [i[0] for i in synth.CN_INDUSTRY].index(firm.parts["industry"])
        if roll < 0.45:
            other = synth.cn_firm(rng, next(counter), place=place, industry=industry)
            if other.parts["own"] != firm.parts["own"]:
                siblings.append((group, group_of(other, bol=2), "same-place-and-trade"))
        elif roll < 0.65:
            others = [p for p in synth.CN_PLACES if p != place and p[1] not in ("Donggang",)]
            other = synth.cn_firm(rng, next(counter), place=rng.choice(others),
                                  own=firm.parts["own"], industry=industry)  # fmt: skip
            siblings.append((group, group_of(other, bol=2), "same-name-other-city"))
        elif roll < 0.8:
            own = firm.parts["own"]
            swapped = "".join(HOMOPHONES.get(c, c) for c in own)
            if swapped != own:
                other = synth.cn_firm(
                    rng, next(counter), place=place, own=swapped, industry=industry
                )
                siblings.append((group, group_of(other, bol=0), "homophone-han"))
        else:
            own = firm.parts["own"]
            changed = own[0] + rng.choice([c for c in synth.CN_NAME_CHARS if c != own[1]])
            other = synth.cn_firm(rng, next(counter), place=place, own=changed, industry=industry)
            siblings.append((group, group_of(other, bol=2), "one-character-apart"))
    for _ in range(110):
        firm = synth.kp_firm(rng, next(counter))
        group = group_of(firm, bol=2)
        groups.append(group)
        industry = [i[0] for i in synth.KP_INDUSTRY].index(firm.parts["industry"])
        if rng.random() < 0.5:
            other = synth.kp_firm(rng, next(counter), industry=industry)
            if other.parts["own"] != firm.parts["own"]:
                siblings.append((group, group_of(other, bol=1), "same-trade-korean"))
        else:
            choices = [i for i in range(len(synth.KP_INDUSTRY)) if i != industry]
            other = synth.kp_firm(
                rng, next(counter), own=firm.parts["own"], industry=rng.choice(choices)
            )
            siblings.append((group, group_of(other, bol=1), "same-name-other-trade-korean"))
    for _ in range(90):
        firm = synth.us_firm(rng, next(counter))
        group = group_of(firm, bol=3)
        groups.append(group)
        other = synth.us_firm(rng, next(counter), first=firm.parts["first"])
        if other.parts["second"] != firm.parts["second"]:
            siblings.append((group, group_of(other, bol=1), "importer-shared-word"))
    return groups, siblings


def registry_groups(rng: random.Random) -> tuple[list[Group], list[tuple[Group, Group, str]]]:
    """Plants from the registry's own generator (``tidetrace.registry.synth``).

    Written by another engineer for the registry, so the Chinese and English forms are
    not shaped by this benchmark's generator. Negatives: same city and company type,
    another trade name.
    """
    try:
        from tidetrace.registry.synth import generate
    except ImportError:  # the registry domain is optional for this benchmark
        return [], []
    plants = generate(260, seed=SEED % 100_000)
    groups = [
        Group(f"registry-{p.code}", "registry-synth", "cn", [p.name_zh, p.name_en]) for p in plants
    ]
    siblings: list[tuple[Group, Group, str]] = []
    by_kind: dict[tuple[str, str], list[Group]] = defaultdict(list)
    for plant, group in zip(plants, groups, strict=True):
        kind = plant.name_en.split(" ", 2)[-1]
        by_kind[(plant.city, kind)].append(group)
    for same in by_kind.values():
        for a, b in itertools.pairwise(same):
            siblings.append((a, b, "registry-same-city-and-type"))
    return groups, siblings


def shipments_groups(rng: random.Random) -> tuple[list[Group], list[tuple[Group, Group, str]]]:
    """Parties of the trade-records generator (``tidetrace.shipments.synth``), as filed.

    Each plant's Chinese name, canonical name and three spellings by
    ``written_name`` (its bill-of-lading noise); each importer's name and three spellings.
    Negatives: plants of one city, importers sharing a word.
    """
    try:
        from tidetrace.shipments.synth import build_world, written_name
    except ImportError:  # the shipments domain is optional for this benchmark
        return [], []
    world = build_world(rng, rows=600_000)
    groups: list[Group] = []
    for party in world.plants + world.importers:
        names = [n for n in (party.han, party.name) if n]
        names += [written_name(rng, party) for _ in range(3)]
        groups.append(
            Group(
                f"shipments-{party.id}",
                "shipments-synth",
                party.country,
                list(dict.fromkeys(names)),
            )
        )
    siblings: list[tuple[Group, Group, str]] = []
    by_city: dict[str, list[Group]] = defaultdict(list)
    for party, group in zip(world.plants, groups, strict=False):
        by_city[party.name.split()[0]].append(group)
    for same in by_city.values():
        for a, b in itertools.pairwise(same):
            siblings.append((a, b, "shipments-same-city"))
    return groups, siblings


def _distinctive(groups: Iterable[Group]) -> set[str]:
    df: dict[str, set[str]] = defaultdict(set)
    for group in groups:
        for name in group.names:
            for word in _words(name):
                df[word].add(group.id)
    return {w for w, ids in df.items() if len(ids) <= 3 and not w.isdigit()}


def _relation(left: str, right: str, distinctive: set[str]) -> str:
    lw, rw = _words(left) & distinctive, _words(right) & distinctive
    if lw & rw:
        return "variant"
    for a in lw:
        for b in rw:
            if len(a) >= 4 and len(b) >= 4 and JaroWinkler.normalized_similarity(a, b) >= 0.85:
                return "variant"
    return "other-name"


def _country(group: Group, name: str, rng: random.Random) -> str:
    # Bills of lading and some lists give no country for a party.
    if scripts(name) == "latin" and rng.random() < 0.3:
        return ""
    return group.country


def positive_pairs(
    group: Group, rng: random.Random, cap: int, distinctive: set[str]
) -> list[dict[str, str]]:
    """Pairs of a group's names (at most ``cap``), preferring pairs across scripts."""
    pairs = list(itertools.combinations(group.names, 2))
    rng.shuffle(pairs)
    pairs.sort(key=lambda p: scripts(p[0]) == scripts(p[1]))
    out = []
    for left, right in pairs[:cap]:
        if group.source.startswith(("un_sc", "ofac_sdn")):
            relation = _relation(left, right, distinctive)
        else:
            relation = "variant"
        out.append(_row(left, right, group, group, 1, relation, rng))
    return out


def _row(left: str, right: str, lg: Group, rg: Group, label: int, relation: str,
         rng: random.Random) -> dict[str, str]:  # fmt: skip
    source = lg.source if lg.source == rg.source else f"{lg.source}|{rg.source}"
    if rng.random() < 0.5:
        left, right, lg, rg = right, left, rg, lg
    return {
        "left": left,
        "right": right,
        "left_country": _country(lg, left, rng),
        "right_country": _country(rg, right, rng),
        "label": str(label),
        "source": source,
        "relation": relation,
        "scripts": "-".join(sorted((scripts(left), scripts(right)))),
        "split": lg.split,
    }


def negative_pairs(groups: list[Group], siblings: list[tuple[Group, Group, str]],
                   rng: random.Random) -> list[dict[str, str]]:  # fmt: skip
    """Hard negatives: different entities whose names share words."""
    out: list[dict[str, str]] = []
    for a, b, relation in siblings:
        # The sibling inherits the split of the firm it was built from.
        b_split = Group(a.id, b.source, b.country, b.names, b.firm)
        count = 1 if relation == "homophone-han" else 3
        if relation.startswith(("registry-", "shipments-")) and b.split != a.split:
            # Registry and trade-record siblings are real groups with their own split:
            # a pair across the split would leak held-out names into tuning.
            continue
        for _ in range(count):
            if relation == "homophone-han":
                left, right = a.firm.native, b.firm.native  # type: ignore[union-attr]
            else:
                left, right = rng.choice(a.names), rng.choice(b.names)
            out.append(_row(left, right, a, b_split, 0, relation, rng))
    by_split: dict[str, list[Group]] = defaultdict(list)
    for group in groups:
        by_split[group.split].append(group)
    for split_groups in by_split.values():
        sanctions = [g for g in split_groups if g.source.startswith(("un_sc", "ofac_sdn"))]
        out.extend(_shared_word_negatives(sanctions, rng, per_group=3, min_shared=1))
        plants = [g for g in split_groups if g.source == "case" and g.country == "cn"]
        cn = [g for g in split_groups if g.source == "synthetic-cn"]
        for a, b in itertools.combinations(plants, 2):
            out.append(_row(rng.choice(a.names), rng.choice(b.names), a, b, 0, "case-plants", rng))
        for plant in plants:
            city = plant.names[0].split()[0].lower()
            same_city = [
                g for g in cn if g.firm and synth.CN_PLACES and city in g.firm.english.lower()
            ]
            for other in rng.sample(same_city, min(4, len(same_city))):
                left, right = rng.choice(plant.names), rng.choice(other.names)
                out.append(_row(left, right, plant, other, 0, "case-vs-same-city", rng))
        buyers = [g for g in split_groups if g.source == "case" and g.country != "cn"]
        importers = [g for g in split_groups if g.source == "synthetic-us"]
        importers += [
            g for g in split_groups if g.source == "shipments-synth" and g.country == "us"
        ]
        out.extend(_shared_word_negatives(buyers + importers, rng, per_group=2, min_shared=1))
    return out


def _shared_word_negatives(groups: list[Group], rng: random.Random, per_group: int,
                           min_shared: int) -> list[dict[str, str]]:  # fmt: skip
    out = []
    index: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(groups):
        for word in set().union(*(_words(n) for n in group.names)):
            index[word].append(i)
    for i, group in enumerate(groups):
        candidates: set[int] = set()
        for word in set().union(*(_words(n) for n in group.names)):
            candidates.update(j for j in index[word] if j > i)
        chosen = rng.sample(sorted(candidates), min(per_group, len(candidates)))
        for j in chosen:
            other = groups[j]
            options = [
                (a, b)
                for a in group.names
                for b in other.names
                if len(_words(a) & _words(b)) >= min_shared
            ]
            if options:
                left, right = rng.choice(options)
                out.append(_row(left, right, group, other, 0, "shared-words", rng))
    return out


def build(path: Path = OUT) -> int:
    """Write the pair set; returns the number of pairs."""
    rng = random.Random(SEED)
    sanctions = sanctions_groups()
    distinctive = _distinctive(sanctions)
    cases = case_groups(rng)
    synthetic, siblings = synthetic_groups(rng)
    registry, registry_siblings = registry_groups(rng)
    shipments, shipments_siblings = shipments_groups(rng)
    synthetic += registry + shipments
    siblings += registry_siblings + shipments_siblings
    rows: list[dict[str, str]] = []
    for group in sanctions:
        rows.extend(positive_pairs(group, rng, cap=8, distinctive=distinctive))
    for group in cases:
        rows.extend(positive_pairs(group, rng, cap=6, distinctive=distinctive))
    for group in synthetic:
        rows.extend(positive_pairs(group, rng, cap=4, distinctive=distinctive))
    rows.extend(negative_pairs(sanctions + cases + synthetic, siblings, rng))
    unique: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        key = tuple(sorted((row["left"], row["right"])))
        if row["left"] != row["right"] and key not in unique:
            unique[key] = row  # type: ignore[index]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for n, row in enumerate(unique.values(), start=1):
            writer.writerow({"pair_id": str(n), **row})
    return len(unique)


if __name__ == "__main__":
    print(f"wrote {build()} pairs to {OUT}")
