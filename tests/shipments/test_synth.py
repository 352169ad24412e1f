"""The synthetic data: deterministic, clearly marked, noisy in the ways real data is."""

import csv
import hashlib
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from tidetrace.shipments.synth import SynthResult, build_world, write_synth


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_files(tmp_path: Path) -> None:
    a = write_synth(tmp_path / "a", 300, seed=9)
    b = write_synth(tmp_path / "b", 300, seed=9)
    c = write_synth(tmp_path / "c", 300, seed=10)
    assert [p.name for p in a.files] == [p.name for p in b.files]
    assert _digest(a.files) == _digest(b.files)
    assert _digest(a.files) != _digest(c.files)


def test_marked_and_with_truth(synth_small: SynthResult) -> None:
    directory = synth_small.files[0].parent
    assert "SYNTHETIC DATA" in (directory / "SYNTHETIC.txt").read_text(encoding="utf-8")
    with open(synth_small.truth_dir / "parties.csv", encoding="utf-8") as fh:
        kinds = Counter(row["kind"] for row in csv.DictReader(fh))
    assert kinds["plant"] >= 8 and kinds["importer"] >= 12 and kinds["forwarder"] >= 4
    truth_rows = sum(pq.read_metadata(p).num_rows for p in synth_small.truth_dir.glob("*.parquet"))
    assert truth_rows == synth_small.rows == 1500


def test_investigation_plants_are_not_used() -> None:
    # The largest world (2,000 plants): no invented name may read as a real plant's.
    world = build_world(random.Random(1), 10_000_000)
    names = [p.name.replace(" ", "") for p in world.parties()]
    assert len(world.plants) == 2000
    for brand in [
        "JINHUI",
        "YUANYI",
        "XINXIN",
        "HAIMENG",
        "OMECA",
        "TAIFENG",
        "GALICIA",
        "HAIQING",
    ]:
        assert not any(brand in name for name in names), brand


def test_real_world_noise_is_there(synth_small: SynthResult) -> None:
    names: list[str] = []
    for path in synth_small.files:
        if path.name.startswith("generic"):
            with open(path, encoding="utf-8", newline="") as fh:
                names += [row["shipper_name"] for row in csv.DictReader(fh)]
    joined = "\n".join(names)
    assert "COMPANY LIMITED" in joined.upper()
    assert "CO.,LTD" in joined.upper() or "CO LTD" in joined.upper()
    assert "AS AGENT FOR" in joined
    assert any(n in ("NOT AVAILABLE", "N/A", "REDACTED", "") for n in names)
    assert any(n.istitle() for n in names)


def test_arrivals_are_in_order_and_seasonal(synth_small: SynthResult) -> None:
    generic = next(p for p in synth_small.files if p.name.startswith("generic"))
    with open(generic, encoding="utf-8", newline="") as fh:
        # Amendments are filed later about bills that arrived earlier: originals only.
        days = [row["arrival_date"] for row in csv.DictReader(fh) if row["record_status"] == "N"]
    assert days == sorted(days)
    months = Counter(int(d[5:7]) for d in days)
    assert months[10] > months[2]  # the squid season


def test_amendments_repeat_a_bill_later(synth_small: SynthResult) -> None:
    truth = [
        row
        for path in synth_small.truth_dir.glob("*.parquet")
        for row in pq.read_table(path).to_pylist()
    ]
    versions = [t for t in truth if t["version"] > 1]
    assert versions
    firsts = {(t["bill_of_lading"], t["carrier"]) for t in truth if t["version"] == 1}
    assert all((v["bill_of_lading"], v["carrier"]) in firsts for v in versions)
