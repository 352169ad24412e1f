"""The synthetic registry: valid codes, realistic names, reproducible, plainly marked."""

import csv
import io

import pytest

from tidetrace.ids.establishment import EstablishmentCode, province_for
from tidetrace.registry.ingest import GENERIC_COLUMNS, SYNTHETIC_PREFIX
from tidetrace.registry.synth import RESERVED, generate, write_csv


def test_codes_are_valid_unique_and_in_the_right_province() -> None:
    plants = generate(3000, seed=11)
    codes = [p.code for p in plants]
    assert len(set(codes)) == 3000
    for plant in plants:
        assert EstablishmentCode.normalize(plant.code) == plant.code
        province = province_for(plant.code)
        assert province is not None
        assert province.en == plant.province
    assert len({p.province for p in plants}) >= 10


def test_names_in_chinese_and_english_never_the_investigation_plants() -> None:
    plants = generate(3000, seed=11)
    for plant in plants:
        assert plant.name_en.startswith(plant.city)
        assert any("\u4e00" <= c <= "\u9fff" for c in plant.name_zh)
        brand = plant.name_en.split()[1].lower()
        assert brand not in RESERVED
    assert len({p.name_en for p in plants}) == 3000


def test_reproducible() -> None:
    assert generate(50, seed=3) == generate(50, seed=3)
    assert generate(50, seed=3) != generate(50, seed=4)
    with pytest.raises(ValueError):
        generate(0, seed=1)


def test_csv_is_the_generic_layout_and_marked_synthetic() -> None:
    out = io.StringIO()
    rows = write_csv(generate(10, seed=1), out, seed=1)
    assert rows == 20
    records = list(csv.reader(io.StringIO(out.getvalue())))
    assert records[0] == GENERIC_COLUMNS
    assert all(r[8].startswith(SYNTHETIC_PREFIX) for r in records[1:])
    assert all("not a real" in r[8] for r in records[1:])
