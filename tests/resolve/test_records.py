"""Records from FtM entities: the same entity is the same record in every process."""

import json
import os
import subprocess
import sys

# A list entry with many spellings, identifiers and addresses: what a set's order shuffles.
SCRIPT = """
import json
from tidetrace.model import model
from tidetrace.resolve.records import from_entity

entity = model.make_entity("Company")
entity.id = "ofac-123"
entity.add("name", "Korea Ryonbong General Corporation")
entity.add("alias", ["Ryonbong", "Lyongaksan General Trading", "Korea Yonbong", "Yonbong",
                     "Korea Ryongbong", "Ryongbong General Corp", "Lyongaksan"])
entity.add("weakAlias", ["KRGC", "RGC"])
entity.add("registrationNumber", ["KP-77", "KP-12"])
entity.add("address", ["Pot'onggang District, Pyongyang", "Chung-gu, Pyongyang"])
entity.add("country", ["kp", "cn"])
record = from_entity(entity)
print(json.dumps([record.names, record.addresses, record.countries, repr(record.identifiers)]))
"""


def _record_in_process(seed: str) -> object:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_the_same_entity_is_the_same_record_under_any_hash_seed() -> None:
    records = [_record_in_process(seed) for seed in ("0", "1", "2", "3")]
    assert all(r == records[0] for r in records)
    names = records[0][0]  # type: ignore[index]
    # Property order is kept (name, then aliases, then weak aliases); values sorted within.
    assert names[0] == "Korea Ryonbong General Corporation"
    assert names[-2:] == ["KRGC", "RGC"]
    assert names[1:-2] == sorted(names[1:-2])
